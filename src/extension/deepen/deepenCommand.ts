/**
 * "Layer Lens: Deepen Model…": choose a model, then a preset, a typed plan or a mergekit YAML;
 * preview the plan in the probe panel (the original against the deepened plan, both run in memory);
 * only then write the deepened checkpoint, atomically, next to the source by default.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DeepenResult } from '../../core/deepen/writer';

export interface DeepenDeps {
  log: vscode.LogOutputChannel;
  /** The model folder for a command argument (URI of config.json or a folder), or a picker when none. */
  resolveModel(arg: unknown): Promise<string | undefined>;
  /** Sentences for the preview probe when no corpus is chosen. */
  previewSentences(): string[];
  /** Most sentences read from a corpus file (layer-lens.maxCorpusSentences). */
  maxCorpusSentences(): number;
}

/** Programmatic form (tests, other commands): no prompts except the overwrite question. */
export interface DeepenCommandArgs {
  model: string;
  /** Explicit plan, preset (dup:3, stack, dus:2 …) or mergekit YAML text. */
  plan: string;
  target?: string;
  overwrite?: boolean;
  /** Probe original vs plan in the panel before writing (default true). */
  preview?: boolean;
  /** A corpus file (one sentence per line, "a ||| b" for pairs) the preview probes instead of the default sentences. */
  previewCorpus?: string;
}

export const UNTRUSTED_MESSAGE =
  'Layer Lens: deepening writes a new model folder and is disabled in an untrusted workspace. Trust this workspace (Manage Workspace Trust) to use it.';

/** What the preview probes: the default sentences, a corpus file the user picks, or nothing ([]); undefined: cancelled. */
async function askPreview(deps: DeepenDeps): Promise<string[] | undefined> {
  const defaults = deps.previewSentences();
  const items: (vscode.QuickPickItem & { choice: 'defaults' | 'corpus' | 'none' })[] = [
    { label: '$(list-flat) The default sentences', description: `${defaults.length} from layer-lens.defaultSentences`, choice: 'defaults' },
    { label: '$(file) A corpus file…', description: 'one sentence per line; the summary gets 95% intervals', choice: 'corpus' },
    { label: '$(close) No preview', description: 'write without probing first', choice: 'none' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Layer Lens: preview the plan on…', ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.choice === 'none') return [];
  if (picked.choice === 'defaults') return defaults;
  const file = await vscode.window.showOpenDialog({
    title: 'Layer Lens: a corpus file for the preview, one sentence per line',
    canSelectMany: false,
    filters: { 'Text files': ['txt'], 'All files': ['*'] },
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return file?.[0] ? readPreviewCorpus(file[0], deps) : undefined;
}

async function readPreviewCorpus(file: vscode.Uri, deps: DeepenDeps): Promise<string[]> {
  const { parseCorpus, PAIR_SEPARATOR } = await import('../corpus');
  const { readUserText } = await import('../../core/files');
  const { inputs, skipped } = parseCorpus(readUserText(file.fsPath, 'corpus file'), deps.maxCorpusSentences());
  if (inputs.length === 0) throw new Error(`${file.fsPath} has no sentences: it needs one sentence per line.`);
  if (skipped > 0) void vscode.window.showWarningMessage(`The preview probes the first ${inputs.length} sentences of ${path.basename(file.fsPath)}; ${skipped} more skipped (setting layer-lens.maxCorpusSentences).`);
  deps.log.info(`deepen preview on ${inputs.length} sentence(s) of ${file.fsPath}`);
  return inputs.map((i) => (i.pair !== undefined ? `${i.text} ${PAIR_SEPARATOR} ${i.pair}` : i.text));
}

interface PlanItem extends vscode.QuickPickItem {
  make?: (n: number) => Promise<string | undefined>;
}

export function registerDeepenCommands(context: vscode.ExtensionContext, deps: DeepenDeps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('layer-lens.deepen', async (arg?: unknown): Promise<DeepenResult | undefined> => {
      try {
        return await deepen(arg, deps);
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        if (err.name === 'CancelledError') {
          void vscode.window.setStatusBarMessage('Layer Lens: deepening cancelled; nothing was written', 4000);
          return undefined;
        }
        deps.log.error(`deepen: ${err.stack ?? err.message}`);
        void vscode.window.showErrorMessage(`Layer Lens: ${err.message}`);
        return undefined;
      }
    }),
  );
}

async function deepen(arg: unknown, deps: DeepenDeps): Promise<DeepenResult | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage(UNTRUSTED_MESSAGE);
    return undefined;
  }
  const direct = isDeepenArgs(arg) ? arg : undefined;
  const dir = direct ? direct.model : await deps.resolveModel(arg);
  if (!dir) return undefined;
  const { readConfigFile } = await import('../../core/checkpoint/config');
  const { printPlan } = await import('../../core/deepen/plan');
  const config = readConfigFile(path.join(dir, 'config.json'));
  const n = config.numLayers;

  const planInput = direct ? direct.plan : await askPlan(dir, n, config.numLayerWeights < n);
  if (planInput === undefined) return undefined;
  const plan = await parsePlanInput(planInput, n);
  const planText = printPlan(plan);

  const sentences = direct ? (direct.preview === false ? [] : direct.previewCorpus ? await readPreviewCorpus(vscode.Uri.file(direct.previewCorpus), deps) : deps.previewSentences()) : await askPreview(deps);
  if (sentences === undefined) return undefined;
  if (sentences.length) {
    // The probe panel shows the original and the deepened plan side by side.
    await vscode.commands.executeCommand('layer-lens.probe', { model: dir, sentences });
    await vscode.commands.executeCommand('layer-lens.probe', { model: dir, sentences, plan: planText, compareWith: 'previous' });
  }

  // The writer reads the source synchronously: a trial load in a bounded worker first (modelCheck.ts).
  const { checkModelLoads } = await import('../../core/checkpoint/modelCheck');
  await checkModelLoads(dir);
  const { checkReplaceable, defaultTargetDir, writeDeepenedCheckpoint } = await import('../../core/deepen/writer');
  let target = direct?.target ?? defaultTargetDir(dir, plan);
  if (!direct) {
    const choice = await vscode.window.showInformationMessage(
      `Write ${path.basename(dir)} deepened to ${plan.length} layers (plan ${planText}) as ${path.basename(target)}?`,
      { modal: true, detail: target },
      'Write',
      'Choose Folder…',
    );
    if (!choice) return undefined;
    if (choice === 'Choose Folder…') {
      const picked = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(target), title: 'Layer Lens: folder for the deepened model', saveLabel: 'Write Here' });
      if (!picked) return undefined;
      target = picked.fsPath;
    }
  }
  let overwrite = direct?.overwrite ?? false;
  if (fs.existsSync(target) && !overwrite) {
    // Only an empty folder or one Layer Lens wrote can be replaced: refuse anything else before asking.
    checkReplaceable(target);
    const answer = await vscode.window.showWarningMessage(
      `${target} already exists. Replace it with the deepened model?`,
      { modal: true, detail: 'The old folder is removed only after the new one is completely written.' },
      'Replace',
    );
    if (answer !== 'Replace') return undefined;
    overwrite = true;
  }

  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Layer Lens: writing ${path.basename(target)}`, cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      const sub = token.onCancellationRequested(() => ac.abort());
      let last = 0;
      try {
        return await writeDeepenedCheckpoint({
          source: dir,
          plan,
          planText,
          target,
          overwrite,
          signal: ac.signal,
          onProgress: (done, total) => {
            const pct = (100 * done) / Math.max(1, total);
            if (pct - last >= 1 || done === total) {
              progress.report({ increment: pct - last, message: `${(done / 1e6).toFixed(0)} of ${(total / 1e6).toFixed(0)} MB` });
              last = pct;
            }
          },
        });
      } finally {
        sub.dispose();
      }
    },
  );
  deps.log.info(
    `deepened ${dir} → ${result.target}: ${n} → ${result.numLayers} layers (plan ${planText}), ${result.tensors} tensors, ${(result.bytes / 1e6).toFixed(1)} MB in ${result.ms} ms`,
  );
  for (const note of result.notes) deps.log.info(`deepen: ${note}`);
  if (!direct) {
    const next = await vscode.window.showInformationMessage(
      `Layer Lens: wrote ${path.basename(result.target)} (${result.numLayers} layers).${result.notes.length ? ' ' + result.notes.join(' ') : ''}`,
      'Fine-tune Both…',
      'Reveal',
    );
    if (next === 'Reveal') await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(result.target, 'config.json')));
    if (next === 'Fine-tune Both…') await vscode.commands.executeCommand('layer-lens.finetune', { models: [dir, result.target] });
  }
  return result;
}

function isDeepenArgs(arg: unknown): arg is DeepenCommandArgs {
  return typeof arg === 'object' && arg !== null && !(arg instanceof vscode.Uri) && typeof (arg as DeepenCommandArgs).model === 'string' && typeof (arg as DeepenCommandArgs).plan === 'string';
}

async function parsePlanInput(text: string, n: number): Promise<number[]> {
  const { looksLikeMergekit, parseMergekitYaml } = await import('../../core/deepen/mergekit');
  const { parsePresetOrPlan } = await import('../../core/deepen/presets');
  return looksLikeMergekit(text) ? parseMergekitYaml(text, n).plan : parsePresetOrPlan(text, n);
}

async function askPlan(dir: string, n: number, shared: boolean): Promise<string | undefined> {
  const { parsePresetOrPlan } = await import('../../core/deepen/presets');
  const last = n - 1;
  const validate = (v: string) => {
    try {
      parsePresetOrPlan(v, n);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };
  const ask = (title: string, value: string, prompt: string, prefix = '') => async () => {
    const v = await vscode.window.showInputBox({ title, value, prompt, validateInput: (x) => validate(prefix + x) });
    return v === undefined ? undefined : prefix + v;
  };
  const items: PlanItem[] = [
    { label: `Duplicate the top layer (${last})`, description: `0-${last},${last}`, detail: 'As in Kao et al.: the last layer runs twice.', make: async () => `dup:${last}` },
    { label: 'Duplicate layer k…', description: 'dup:k', make: ask('Duplicate which layer?', String(last), `A layer index 0-${last}; it runs twice in a row.`, 'dup:') },
    { label: 'Duplicate a range…', description: 'dup-range:a-b', make: ask('Duplicate which range?', `${Math.max(0, last - 1)}-${last}`, 'Inclusive range a-b; it runs twice in a row.', 'dup-range:') },
    { label: 'Stack the encoder', description: `${2 * n} layers`, detail: 'Progressive stacking: the whole encoder runs twice.', make: async () => 'stack' },
    {
      label: 'Depth up-scaling (SOLAR)…',
      description: '[0, n−m) + [m, n)',
      make: ask('Layers m to drop from each copy', String(Math.max(1, Math.floor(n / 4))), `m in 0-${last}; depth becomes 2(n−m).`, 'dus:'),
    },
    { label: 'Type a plan…', description: 'e.g. 0-3,3', make: ask('Layer plan', `0-${last},${last}`, 'Comma list of layer indices and inclusive ranges, run in order.') },
    {
      label: 'Import mergekit YAML…',
      description: 'passthrough slices',
      make: async () => {
        const f = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'mergekit config': ['yaml', 'yml'] }, title: 'mergekit passthrough config' });
        // Through the same regular-file and size checks as the CLI: a FIFO named x.yaml must not hang the host.
        if (!f) return undefined;
        const { readUserText } = await import('../../core/files');
        return readUserText(f[0].fsPath, 'mergekit YAML');
      },
    },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: `Layer Lens: deepen ${path.basename(dir)} (${n} layers)`,
    placeHolder: shared ? 'This model shares one layer group: only the number of layers changes' : 'How should the new encoder run its layers?',
    matchOnDescription: true,
  });
  return picked?.make ? picked.make(n) : undefined;
}
