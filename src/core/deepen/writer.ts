/**
 * Writes a deepened checkpoint: the source's encoder layers renumbered and duplicated by a layer
 * plan, everything else byte-identical.
 *
 * - Streams tensor by tensor: at most one tensor's bytes are in memory (the largest in BERT-large is
 *   the 30522×1024 F32 word embedding, 125 MB), so peak memory is independent of depth.
 * - Atomic: everything goes into a temp folder inside the target's parent (./tempFolders.ts says how
 *   it is marked), each file is fsynced, then one rename() publishes it.
 * - Never destroys what it did not write: an existing target is replaced only with `overwrite`, and
 *   only when it is an empty folder or one Layer Lens wrote (its config.json has a `layer_lens`
 *   entry). The old folder is moved aside, the new one renamed in, and only then the old one removed.
 * - On any failure (disk full, permission denied, cancellation) the temp folder is removed, so no
 *   partial model is ever left behind; a run killed outright leaves it, and the next run in the same
 *   parent folder removes it. The source folder is only read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeConfig, readConfigFile } from '../checkpoint/config';
import { resolveInsideFolder } from '../checkpoint/insideFolder';
import { checkPlanLength } from '../checkpoint/limits';
import { readUserFile, readUserText } from '../files';
import { floatLiteralPaths, stringifyKeepingFloats } from '../checkpoint/jsonFloats';
import { DType } from '../checkpoint/dtype';
import { locateModel } from '../checkpoint/locate';
import { readSafetensorsHeader, TensorEntry } from '../checkpoint/safetensors';
import { openWeights } from '../checkpoint/weights';
import { CancelledError, UserError } from '../errors';
import { familyForModelType } from '../families';
import { AttentionSpan, FamilyDescriptor, NormalizedConfig } from '../families/types';
import { printMergekitYaml } from './mergekit';
import { LayerPlan, printPlan } from './plan';
import { cleanStaleTempFolders, createTempFolder, REPLACED_DIR, StaleCleanup, TEMP_MARKER } from './tempFolders';

/** Tokenizer and vocabulary files copied as they are when present. */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
  'spiece.model',
  'sentencepiece.bpe.model',
  'spm.model',
];

export interface OutTensor {
  name: string;
  dtype: DType;
  shape: number[];
  byteLength: number;
  /** Where the bytes come from in the source checkpoint. */
  source: TensorEntry;
}

export interface DeepenLayout {
  config: NormalizedConfig;
  family: FamilyDescriptor;
  /** Output tensors in file order. */
  tensors: OutTensor[];
  /** True when the encoder shares one weight group across layers (ALBERT): no tensor is renumbered. */
  sharedWeights: boolean;
  /** Human-readable notes for the user (e.g. ALBERT sharing, dropped layers). */
  notes: string[];
  metadata: Record<string, string>;
  /** The deepened config.json, before the provenance entry: layer count and per-layer keys rewritten. */
  rawConfig: Record<string, unknown>;
  /** Numbers the source config.json writes as floats (2.0), written back as floats for HF's strict configs. */
  floatPaths: Set<string>;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Regex matching one encoder layer's tensor names for a family, capturing the index and the rest. */
export function layerNamePattern(family: FamilyDescriptor): RegExp {
  const [before, after] = family.layerPrefix.split('{i}');
  if (after === undefined) throw new Error(`family ${family.id}: layerPrefix "${family.layerPrefix}" has no {i}`);
  return new RegExp(`^${escapeRegExp(before)}(\\d+)${escapeRegExp(after)}(.*)$`);
}

/**
 * Works out the output tensors for `plan` without reading any tensor data.
 * Throws a UserError naming the problem when the plan can't be honoured.
 */
export function planDeepenedLayout(sourceDir: string, plan: LayerPlan): DeepenLayout {
  const location = locateModel(sourceDir);
  const config = readConfigFile(location.configFile);
  const family = familyForModelType(config.modelType)!;
  if (plan.length === 0) throw new UserError('layer plan is empty; give layer indices like "0-3,3"');
  checkPlanLength(plan.length);
  plan.forEach((l, i) => {
    if (!Number.isInteger(l) || l < 0 || l >= config.numLayers) {
      throw new UserError(`layer plan entry ${i + 1} (${l}) is out of range: the model has layers 0-${config.numLayers - 1}`);
    }
  });
  const weights = openWeights(location.dir, location.weightsHint);
  if (weights.format !== 'safetensors') {
    throw new UserError(`deepening needs safetensors weights; this model has ${weights.format} weights`, weights.displayFile);
  }
  const metadata = readSafetensorsHeader(weights.files[0]).metadata ?? {};
  const rawConfig = deepenedRawConfig(config, family, plan, location.configFile);
  const floatPaths = floatLiteralPaths(readUserText(location.configFile, 'config.json'));
  const all = [...weights.tensors.values()].sort((a, b) => (a.file === b.file ? a.offset - b.offset : weights.files.indexOf(a.file) - weights.files.indexOf(b.file)));
  const notes: string[] = [];

  if (config.numLayerWeights < config.numLayers || family.layerWeightCount !== undefined) {
    // ALBERT: layers share weight groups. With one group, every planned layer is that group, so the
    // deepened model is the same tensors with a larger layer count.
    if (config.numLayerWeights !== 1) {
      throw new UserError(
        `this ${family.displayName} model shares ${config.numLayerWeights} weight groups among ${config.numLayers} layers; ` +
          'deepening is only exact for a single shared group (num_hidden_groups = 1)',
      );
    }
    notes.push(
      `${family.displayName} shares one weight group across all layers: every plan entry maps to that shared group, so the ` +
        `deepened model keeps the same tensors and only ${family.layerCountKey} changes (${config.numLayers} → ${plan.length}).`,
    );
    const tensors = all.map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape, byteLength: e.byteLength, source: e }));
    return { config, family, tensors, sharedWeights: true, notes, metadata, rawConfig, floatPaths };
  }

  const pattern = layerNamePattern(family);
  const byLayer = new Map<number, TensorEntry[]>();
  const before: TensorEntry[] = [];
  const after: TensorEntry[] = [];
  for (const e of all) {
    const m = pattern.exec(e.name);
    if (!m) {
      (byLayer.size === 0 ? before : after).push(e);
      continue;
    }
    const idx = Number(m[1]);
    if (idx >= config.numLayers) {
      throw new UserError(`tensor "${e.name}" belongs to layer ${idx}, but config.json says the model has ${config.numLayers} layers`, weights.displayFile);
    }
    if (!byLayer.has(idx)) byLayer.set(idx, []);
    byLayer.get(idx)!.push(e);
  }
  for (const l of new Set(plan)) {
    if (!byLayer.has(l)) throw new UserError(`the weights have no tensors for layer ${l} (expected names like "${family.layerPrefix.replace('{i}', String(l))}…")`, weights.displayFile);
  }
  const dropped = [...byLayer.keys()].filter((l) => !plan.includes(l)).sort((a, b) => a - b);
  if (dropped.length > 0) notes.push(`layers ${printPlan(dropped)} are not in the plan and are left out.`);
  const [pre, post] = family.layerPrefix.split('{i}');
  const layerTensors: OutTensor[] = [];
  plan.forEach((src, newIdx) => {
    for (const e of byLayer.get(src)!) {
      const rest = pattern.exec(e.name)![2];
      layerTensors.push({ name: `${pre}${newIdx}${post}${rest}`, dtype: e.dtype, shape: e.shape, byteLength: e.byteLength, source: e });
    }
  });
  const keep = (e: TensorEntry): OutTensor => ({ name: e.name, dtype: e.dtype, shape: e.shape, byteLength: e.byteLength, source: e });
  return { config, family, tensors: [...before.map(keep), ...layerTensors, ...after.map(keep)], sharedWeights: false, notes, metadata, rawConfig, floatPaths };
}

/**
 * The deepened config.json: the layer count and the family's per-layer keys follow the plan. HF
 * rebuilds each layer from this config and its index alone, so the config must give layer k the
 * structure of source layer plan[k] (attention span, rotary base, whether it has an attention
 * norm); a plan it cannot express is refused rather than written as a model that computes
 * something else.
 */
function deepenedRawConfig(config: NormalizedConfig, family: FamilyDescriptor, plan: LayerPlan, file: string): Record<string, unknown> {
  const raw = { ...config.raw, [family.layerCountKey]: plan.length, ...family.perLayerConfig?.(config.raw, plan, config.numLayers) };
  if (config.numLayerWeights < config.numLayers) return raw;
  const deep = normalizeConfig(raw, file).architecture;
  const src = config.architecture;
  const theta = (a: typeof src, i: number) => (a.positions.kind === 'rotary' ? a.positions.theta[i] : undefined);
  plan.forEach((j, k) => {
    const want = src.layers[j];
    const got = deep.layers[k];
    let differs: string | undefined;
    if (want.attnNorm !== got.attnNorm) {
      differs = `source layer ${j} has ${want.attnNorm ? 'an' : 'no'} attention norm, but HF would build layer ${k} ${got.attnNorm ? 'with' : 'without'} one`;
    } else if (JSON.stringify(want.attention) !== JSON.stringify(got.attention)) {
      differs = `source layer ${j} attends ${spanText(want.attention)}, but the written config would make layer ${k} attend ${spanText(got.attention)}`;
    } else if (theta(src, j) !== theta(deep, k)) {
      differs = `source layer ${j} has rotary base ${theta(src, j)}, but the written config would give layer ${k} ${theta(deep, k)}`;
    }
    if (differs) {
      throw new UserError(`plan entry ${k + 1}: ${differs}${family.deepenPlanRule ? `; ${family.deepenPlanRule}` : ''}`, file);
    }
  });
  return raw;
}

function spanText(span: AttentionSpan): string {
  return span.kind === 'global' ? 'globally' : `within ±${span.halfWindow} tokens`;
}

/** `<name>-deep-<plan>` next to the source, with the plan made folder-safe. */
export function defaultTargetDir(sourceDir: string, plan: LayerPlan): string {
  const abs = path.resolve(sourceDir);
  let tag = printPlan(plan).replace(/,/g, '_');
  if (tag.length > 40) tag = `${plan.length}L`;
  return path.join(path.dirname(abs), `${path.basename(abs)}-deep-${tag}`);
}

export interface DeepenOptions {
  source: string;
  plan: LayerPlan;
  /** Defaults to defaultTargetDir(source, plan). */
  target?: string;
  /** Replace an existing target. The UI sets this only after asking. */
  overwrite?: boolean;
  /** How the plan was written, for provenance (defaults to printPlan). */
  planText?: string;
  signal?: AbortSignal;
  onProgress?: (bytesDone: number, bytesTotal: number, tensor: string) => void;
  /** Told about stale temp folders of interrupted runs that were removed (or old targets restored). */
  onStaleCleanup?: (cleanup: StaleCleanup) => void;
  /** Test seam: produces a tensor's bytes (defaults to reading them from the source). */
  readTensor?: (t: OutTensor, index: number) => Promise<Uint8Array>;
}

export interface DeepenResult {
  target: string;
  numLayers: number;
  plan: LayerPlan;
  bytes: number;
  tensors: number;
  ms: number;
  notes: string[];
}

export async function writeDeepenedCheckpoint(options: DeepenOptions): Promise<DeepenResult> {
  const started = Date.now();
  const source = path.resolve(options.source);
  const layout = planDeepenedLayout(source, options.plan);
  const target = path.resolve(options.target ?? defaultTargetDir(source, options.plan));
  const realSource = fs.realpathSync(source);
  const parent = path.dirname(target);
  const realTarget = path.join(fs.existsSync(parent) ? fs.realpathSync(parent) : parent, path.basename(target));
  if (realTarget === realSource || realTarget.startsWith(realSource + path.sep) || realSource.startsWith(realTarget + path.sep)) {
    throw new UserError('the target folder must not be the source folder, inside it, or contain it; choose a folder next to it', target);
  }
  if (lexists(target) && !options.overwrite) {
    throw new UserError('target already exists; choose another folder or allow overwriting', target);
  }
  checkReplaceable(target);
  if (!fs.existsSync(parent)) throw new UserError('the parent folder does not exist', parent);
  const tokenizerFiles = readTokenizerFiles(path.dirname(locateModel(source).configFile));

  const cleanup = cleanStaleTempFolders(parent);
  if (cleanup.removed.length > 0 || cleanup.restored.length > 0) options.onStaleCleanup?.(cleanup);
  let temp: string;
  try {
    temp = createTempFolder(target);
  } catch (e) {
    throw new UserError(`cannot create a folder here: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, parent);
  }
  try {
    const bytes = await writeTensorsAsync(path.join(temp, 'model.safetensors'), layout, options);
    writeSynced(path.join(temp, 'config.json'), stringifyKeepingFloats(deepenedConfig(layout, source, options), layout.floatPaths) + '\n');
    for (const [f, bytes] of tokenizerFiles) writeSynced(path.join(temp, f), bytes);
    writeSynced(path.join(temp, 'README.md'), modelCard(layout, source, options));
    fsyncDir(temp);
    throwIfAborted(options.signal);
    publish(temp, target, !!options.overwrite);
    fsyncDir(parent);
    return {
      target,
      numLayers: options.plan.length,
      plan: options.plan,
      bytes,
      tensors: layout.tensors.length,
      ms: Date.now() - started,
      notes: layout.notes,
    };
  } catch (e) {
    fs.rmSync(temp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new UserError('the disk is full; nothing was written', parent);
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`permission denied (${code}); nothing was written`, parent);
    throw e;
  }
}

/**
 * The tokenizer files to copy, read (and so checked) before anything is written. Only files of the
 * model itself are copied: a vocab.txt linking to /etc/shadow or /dev/zero is refused.
 */
function readTokenizerFiles(sourceDir: string): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  for (const f of TOKENIZER_FILES) {
    const from = resolveInsideFolder(sourceDir, f, 'tokenizer file', sourceDir);
    if (fs.existsSync(from)) out.push([f, readUserFile(from, f)]);
  }
  return out;
}

function lexists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Throws unless `target` may be replaced: it does not exist, or is an empty folder, or a folder
 * Layer Lens wrote (config.json with a `layer_lens` provenance entry). Names what is there otherwise.
 */
export function checkReplaceable(target: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target);
  } catch {
    return;
  }
  const refuse = (what: string) => new UserError(`${what}; refusing to replace it (only an empty folder or one Layer Lens wrote is replaced): remove it yourself or choose another folder`, target);
  if (st.isSymbolicLink()) throw refuse('is a symbolic link');
  if (st.isFile()) throw refuse(`is a file (${st.size} bytes), not a folder Layer Lens wrote`);
  if (!st.isDirectory()) throw refuse('is not a folder (a device, FIFO or socket)');
  const entries = fs.readdirSync(target);
  if (entries.length === 0) return;
  if (wroteByLayerLens(target)) return;
  const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', …' : '');
  throw refuse(`holds ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'} (${shown}) and is not a folder Layer Lens wrote (no "layer_lens" entry in its config.json)`);
}

function wroteByLayerLens(dir: string): boolean {
  const file = path.join(dir, 'config.json');
  try {
    const st = fs.lstatSync(file);
    if (!st.isFile() || st.size > 16 * 1024 * 1024) return false;
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    const p = raw?.layer_lens;
    return typeof p === 'object' && p !== null && typeof p.plan === 'string';
  } catch {
    return false;
  }
}

/**
 * Moves the finished temp folder into place. With overwrite, the old target is first moved into a
 * marked temp folder of ours (so an interrupted swap can be undone by the next run), the new folder
 * renamed in, and the old one removed last.
 */
function publish(temp: string, target: string, overwrite: boolean): void {
  if (!lexists(target)) {
    fs.renameSync(temp, target);
    fs.rmSync(path.join(target, TEMP_MARKER), { force: true });
    return;
  }
  if (!overwrite) throw new UserError('target appeared while writing; nothing was overwritten', target);
  checkReplaceable(target);
  const holder = createTempFolder(target);
  const old = path.join(holder, REPLACED_DIR);
  fs.renameSync(target, old);
  try {
    fs.renameSync(temp, target);
  } catch (e) {
    fs.renameSync(old, target);
    fs.rmSync(holder, { recursive: true, force: true });
    throw e;
  }
  fs.rmSync(path.join(target, TEMP_MARKER), { force: true });
  fs.rmSync(holder, { recursive: true, force: true });
}

function deepenedConfig(layout: DeepenLayout, source: string, options: DeepenOptions): Record<string, unknown> {
  const raw = { ...layout.rawConfig };
  raw.layer_lens = { source, plan: options.planText ?? printPlan(options.plan), source_layers: layout.config.numLayers };
  return raw;
}

function modelCard(layout: DeepenLayout, source: string, options: DeepenOptions): string {
  const name = path.basename(source);
  const planText = printPlan(options.plan);
  const lines = [
    `# ${name}, deepened to ${options.plan.length} layers`,
    '',
    `Written by Layer Lens from \`${name}\` (${layout.family.displayName}, ${layout.config.numLayers} layers) with no training:`,
    `encoder layers run in the order \`${planText}\`; every other tensor is copied unchanged.`,
    '',
    'Duplicating layers works because the masked-LM head can read every layer (Kao et al., 2020,',
    '"Further boosting BERT-based models by duplicating existing layers", arXiv:2001.09309);',
    'fine-tune the deepened model before comparing it with the original.',
    '',
    ...layout.notes.map((n) => `- ${n}`),
    ...(layout.notes.length ? [''] : []),
    'The same plan as a mergekit `passthrough` config:',
    '',
    '```yaml',
    printMergekitYaml(options.plan, name).trimEnd(),
    '```',
    '',
  ];
  return lines.join('\n');
}

async function writeTensorsAsync(file: string, layout: DeepenLayout, options: DeepenOptions): Promise<number> {
  const header: Record<string, unknown> = {};
  if (Object.keys(layout.metadata).length > 0) header.__metadata__ = layout.metadata;
  let offset = 0;
  for (const t of layout.tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.byteLength] };
    offset += t.byteLength;
  }
  const total = offset;
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8);
  const headerBytes = Buffer.from(headerText, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length));

  const read = options.readTensor ?? readSourceBytes;
  const out = await fs.promises.open(file, 'wx');
  try {
    await writeAll(out, len);
    await writeAll(out, headerBytes);
    let done = 0;
    for (let i = 0; i < layout.tensors.length; i++) {
      throwIfAborted(options.signal);
      const t = layout.tensors[i];
      const bytes = await read(t, i);
      if (bytes.byteLength !== t.byteLength) throw new Error(`tensor ${t.name}: expected ${t.byteLength} bytes, got ${bytes.byteLength}`);
      await writeAll(out, bytes);
      done += t.byteLength;
      options.onProgress?.(done, total, t.name);
    }
    await out.sync();
  } finally {
    await out.close();
  }
  return 8 + headerBytes.length + total;
}

async function readSourceBytes(t: OutTensor): Promise<Uint8Array> {
  const fh = await fs.promises.open(t.source.file, 'r');
  try {
    const buf = new Uint8Array(t.byteLength);
    let done = 0;
    while (done < t.byteLength) {
      const { bytesRead } = await fh.read(buf, done, t.byteLength - done, t.source.offset + done);
      if (bytesRead === 0) throw new UserError(`unexpected end of file while reading tensor "${t.source.name}"`, t.source.file);
      done += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: fs.promises.FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done);
    done += bytesWritten;
  }
}

function writeSynced(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'wx');
  try {
    let done = 0;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    while (done < bytes.byteLength) done += fs.writeSync(fd, bytes, done, bytes.byteLength - done);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the files themselves are synced.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}
