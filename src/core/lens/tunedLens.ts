/**
 * A tuned lens (Belrose et al. 2023) as python/tune_lens.py writes it: one affine translator per
 * state h0..h(L−1) in translators.safetensors, and a card (lens.json) saying which model and plan
 * it was trained for. Loading checks it belongs to the checkpoint being probed: same hidden size,
 * same weights (modelHash), same plan; anything else is one clear line.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Checkpoint } from '../checkpoint/checkpoint';
import { readSafetensorsHeader, readTensorF32 } from '../checkpoint/safetensors';
import { UserError } from '../errors';
import { readJsonObject } from '../files';
import type { Translator } from '../graph/probeGraph';

export const LENS_CARD = 'lens.json';
export const LENS_WEIGHTS = 'translators.safetensors';
export const LENS_FORMAT = 'layer-lens-tuned-lens/1';

/** Per state h0..hL on the held-out split: mean KL(final ‖ lens) in nats and top-1 accuracy (the input token). */
export interface HeldoutFigures {
  kl: number[];
  accuracy: number[];
}

export interface LensCard {
  format: string;
  model: { name: string; hash: string; hiddenSize: number; numLayers: number };
  plan: number[];
  corpus: { file: string; sha256: string; sentences: number; trainSentences: number; heldoutSentences: number; heldoutPositions: number };
  optimizer: Record<string, unknown>;
  steps: number;
  heldout: { before: HeldoutFigures; after: HeldoutFigures };
}

export interface TunedLens {
  dir: string;
  card: LensCard;
  /** One per state h0..h(L−1); the final state is read as is (its own KL reference). */
  translators: Translator[];
}

const hashCache = new Map<string, string>();

/** sha256 over the weight files' bytes, in the order of their file names (python/tune_lens.py computes the same). */
export function modelHash(files: string[]): string {
  const sorted = [...files].sort((a, b) => (path.basename(a) < path.basename(b) ? -1 : path.basename(a) > path.basename(b) ? 1 : 0));
  const key = sorted.map((f) => `${f}:${fs.statSync(f).size}:${fs.statSync(f).mtimeMs}`).join('|');
  const known = hashCache.get(key);
  if (known) return known;
  const h = crypto.createHash('sha256');
  const buf = Buffer.alloc(16 * 2 ** 20);
  for (const f of sorted) {
    const fd = fs.openSync(f, 'r');
    try {
      for (let n = fs.readSync(fd, buf, 0, buf.length, null); n > 0; n = fs.readSync(fd, buf, 0, buf.length, null)) h.update(buf.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
  }
  const hex = h.digest('hex');
  hashCache.set(key, hex);
  return hex;
}

export function loadTunedLens(dir: string, checkpoint: Checkpoint): TunedLens {
  const cardFile = path.join(dir, LENS_CARD);
  if (!fs.existsSync(cardFile)) throw new UserError(`not a tuned lens: no ${LENS_CARD} (make one with layer-lens tune-lens)`, dir);
  const card = readJsonObject(cardFile, 'tuned-lens card') as unknown as LensCard;
  if (card.format !== LENS_FORMAT) throw new UserError(`unknown tuned-lens format ${JSON.stringify(card.format)}, expected ${LENS_FORMAT}`, cardFile);
  const { config } = checkpoint;
  if (card.model?.hiddenSize !== config.hiddenSize) {
    throw new UserError(`this tuned lens is for hidden size ${card.model?.hiddenSize}, but ${checkpoint.name} has ${config.hiddenSize}: it belongs to another model`, cardFile);
  }
  if (!Array.isArray(card.plan) || !card.plan.every(Number.isInteger)) throw new UserError('the card has no layer plan', cardFile);
  const hash = modelHash(checkpoint.weights.files);
  if (card.model.hash !== hash) {
    throw new UserError(`this tuned lens was trained on other weights (model hash ${String(card.model.hash).slice(0, 12)}…, ${checkpoint.name} is ${hash.slice(0, 12)}…): train one for this model`, cardFile);
  }
  const weightsFile = path.join(dir, LENS_WEIGHTS);
  const header = readSafetensorsHeader(weightsFile);
  const H = config.hiddenSize;
  const translators: Translator[] = card.plan.map((_, i) => {
    const w = header.tensors.get(`translator.${i}.weight`);
    const b = header.tensors.get(`translator.${i}.bias`);
    if (!w || !b) throw new UserError(`missing tensor translator.${i}.weight or .bias (the card's plan has ${card.plan.length} layers)`, weightsFile);
    if (w.shape.join(',') !== `${H},${H}` || b.shape.join(',') !== `${H}`) {
      throw new UserError(`translator ${i} has shape [${w.shape}] + [${b.shape}], expected [${H},${H}] + [${H}]`, weightsFile);
    }
    return { weight: readTensorF32(w), bias: readTensorF32(b) };
  });
  return { dir: path.resolve(dir), card, translators };
}

/** The lens must have been trained along the plan being probed: translator i reads the state after plan entry i. */
export function checkLensPlan(lens: TunedLens, plan: number[]): void {
  if (lens.card.plan.join(',') !== plan.join(',')) {
    throw new UserError(`this tuned lens was trained for layer plan ${lens.card.plan.join(',')}, not ${plan.join(',')}: probe that plan or train one for this plan`, path.join(lens.dir, LENS_CARD));
  }
}

/** `--lens raw` or `--lens tuned:DIR`. */
export function parseLensArg(text: string): { kind: 'raw' } | { kind: 'tuned'; dir: string } {
  if (text === 'raw') return { kind: 'raw' };
  if (text.startsWith('tuned:') && text.length > 'tuned:'.length) return { kind: 'tuned', dir: text.slice('tuned:'.length) };
  throw new UserError(`--lens must be raw or tuned:DIR (a folder made by layer-lens tune-lens), got "${text}"`);
}
