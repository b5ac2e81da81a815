/** Where models are: the embedded sample, the workspace's model folders, and what a URI points at. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isModelFolder, REFERENCE_MODEL_RELATIVE } from '../core/checkpoint/locate';
import { readJsonObject } from '../core/files';
import { familyForModelType } from '../core/families';

/**
 * The embedded sample checkpoint (REFERENCE_MODEL_RELATIVE under the extension root).
 * `LAYER_LENS_SAMPLE_MODEL` (an absolute folder) overrides it, which the end-to-end tests use.
 */
export function sampleModelDir(extensionPath: string): string {
  const override = process.env.LAYER_LENS_SAMPLE_MODEL;
  return override && path.isAbsolute(override) ? override : path.join(extensionPath, REFERENCE_MODEL_RELATIVE);
}

/** The embedded model as shipped (no override): the execution provider parity check probes it. */
export function referenceModelDir(extensionPath: string): string {
  return path.join(extensionPath, REFERENCE_MODEL_RELATIVE);
}

/** The model folder a URI points at: the folder itself, or the folder holding the file. */
export function modelDirFor(target: string): string {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(target);
  } catch {
    throw new ModelPickError(`${target}: no such file or folder`);
  }
  const dir = stat.isDirectory() ? target : path.dirname(target);
  if (!isModelFolder(dir)) {
    throw new ModelPickError(
      `${dir} is not a model folder: it needs a config.json with a "model_type" (plus model.safetensors and a tokenizer).`,
    );
  }
  return dir;
}

export class ModelPickError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Model folders in the workspace: every config.json with a model_type. */
export async function findWorkspaceModels(limit = 500): Promise<string[]> {
  if (!vscode.workspace.workspaceFolders?.length) return [];
  const files = await vscode.workspace.findFiles('**/config.json', '{**/node_modules/**,**/.git/**,**/.cache/**}', limit);
  const dirs = files.filter((f) => f.scheme === 'file').map((f) => path.dirname(f.fsPath));
  return [...new Set(dirs)].filter(isSupportedModelFolder).sort();
}

/**
 * A model folder whose config.json names a model_type Layer Lens reads: the cheap sniff behind the
 * explorer menus, CodeLens and pickers (re-run when a config.json changes), so a GPT-2 folder is
 * never offered Probe or Deepen only to be refused after the user typed a sentence.
 */
export function isSupportedModelFolder(dir: string): boolean {
  try {
    const type = readJsonObject(path.join(dir, 'config.json'), 'config.json').model_type;
    return typeof type === 'string' && familyForModelType(type) !== undefined;
  } catch {
    return false;
  }
}

interface ModelItem extends vscode.QuickPickItem {
  dir: string;
}

export async function pickModel(extensionPath: string, lastUsed: string | undefined): Promise<string | undefined> {
  const sample = sampleModelDir(extensionPath);
  const found = await findWorkspaceModels();
  const items: ModelItem[] = [];
  const rel = (d: string) => vscode.workspace.asRelativePath(d, true);
  const add = (dir: string, description: string) => {
    const desc = dir === sample ? 'embedded sample model' : description;
    if (!items.some((i) => i.dir === dir)) items.push({ label: path.basename(dir), description: desc, detail: dir, dir });
  };
  if (lastUsed && fs.existsSync(lastUsed) && isSupportedModelFolder(lastUsed)) add(lastUsed, 'last used');
  for (const dir of found) add(dir, rel(dir));
  add(sample, 'embedded sample model');
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Layer Lens: pick a model folder',
    placeHolder: 'A folder with config.json, model.safetensors and a tokenizer',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return picked?.dir;
}
