/**
 * The probe engine: one loaded checkpoint plus its worker. Tokenizes, batches sentences of
 * similar length, runs the probe graph for a layer plan, and assembles a ProbeReport.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Checkpoint, loadCheckpoint, weightsDtype } from '../checkpoint/checkpoint';
import { checkPlanLength } from '../checkpoint/limits';
import { EncodedText, truncate } from '../checkpoint/tokenizer';
import { identityPlan, LayerPlan, printPlan } from '../deepen/plan';
import { CancelledError, UserError } from '../errors';
import { buildProbeGraphs } from '../graph/probeGraph';
import { positionId } from './inputs';
import { aggregateLayers, goldAt, isMasked, sentenceRows, summarizeAggregate, summarizeLayers } from './metrics';
import { FastModeInfo, LayerCells, MaskedPosition, ModelInfo, ProbedSentence, ProbeReport, REPORT_SCHEMA_VERSION, TokenTrajectory } from './report';
import { BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, bootstrapIntervals, rowColumns, withIntervals } from './bootstrap';
import { WorkerClient } from './workerClient';
import { NOTHING_COUNTED } from './accumulate';
import { BatchInput, FastCalibration, OrtTuning, RawLayerOutputs } from './workerProtocol';
import { FAST_CANDIDATES } from '../graph/headGraph';
import { Int8Kernel, localInt8Kernel } from './int8Kernel';
import { checkLensPlan, TunedLens } from '../lens/tunedLens';
import { ExecutionProvider, ExecutionProviderChoice, ExecutionProviderInfo, judgeParity, PARITY_INPUTS, PARITY_TOLERANCE, ProviderParity, resolveAuto } from './executionProvider';

export interface ProbeInput {
  /** 0-based index in the corpus (rows, warnings and errors name it); default the position in the inputs. */
  index?: number;
  text: string;
  /** Second segment of a sentence pair (token_type_ids 1). */
  pair?: string;
  /** Gold tokens for the mask tokens typed in the text, in order (the CLI's --mask-gold). */
  maskGold?: string[];
  /** Token positions to replace with the mask token, the original token being the gold ("mask this word"). */
  maskPositions?: number[];
}

export interface ProbeOptions {
  plan?: LayerPlan;
  topK?: number;
  includeSpecial?: boolean;
  /** Cut longer inputs to this many tokens (special tokens included); never more than the model takes. */
  maxTokens?: number;
  /** Fast mode for this run (default: the engine's `fast` option). */
  fast?: boolean;
  signal?: AbortSignal;
  /**
   * On cancel, return what was finished (whole batches) instead of throwing, marked
   * `corpus.partial`; throws CancelledError as usual when nothing was finished.
   */
  keepPartial?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Also mask each counted token in turn (per-layer pseudo-log-likelihood): one sequence per token. */
  pll?: boolean;
  /** Sub-layer lens: also read the state after each layer's attention block (ProbedSentence.sublayers). */
  sublayers?: boolean;
  /** Read the states through this tuned lens (loadTunedLens) instead of the raw head. */
  lens?: TunedLens;
  /** Bootstrap intervals in the summary (default true); a caller that merges chunks draws them once at the end. */
  intervals?: boolean;
}

export interface EngineOptions {
  threads?: number;
  workerPath?: string;
  /** Padded tokens per encoder run (the head then runs on real tokens only, in bounded chunks). */
  maxTokensPerRun?: number;
  /**
   * Fast mode: the decoder product in int8 with the top candidates rescored exactly (headGraph.ts).
   * Top-k ids and order are exact; log-probs, entropy, KL and ranks are approximate, and the
   * report says by how much on a sample of the run. The encoder stays fp32.
   */
  fast?: boolean;
  /** The CPU's int8 kernel (default: read from this machine); fast mode runs only where it is VNNI/AMX-class. */
  int8Kernel?: Int8Kernel;
  /** ORT settings and head chunk size, for the bench's paired comparisons. */
  tuning?: OrtTuning & { headBufferBytes?: number };
  /**
   * The onnxruntime execution provider (default cpu). Any other is used only once it reproduces the
   * CPU's figures on `parityModel` (executionProvider.ts); else the run falls back to the CPU and says why.
   */
  executionProvider?: ExecutionProviderChoice;
  /** The checkpoint the provider parity check probes: the embedded reference model. */
  parityModel?: string;
}

/** How a provider fared against the CPU, once per process, provider and parity model. */
type ParityOutcome = { parity?: ProviderParity; refused?: string };
const parityChecks = new Map<string, Promise<ParityOutcome>>();

export const DEFAULT_TOP_K = 5;


export class ProbeEngine {
  private readonly client: WorkerClient;
  private openSessionKey: string | undefined;
  private sessionMs = 0;

  /** What the report says about the provider (absent when the CPU was asked for). */
  private providerInfo: ExecutionProviderInfo | undefined;

  private constructor(
    readonly checkpoint: Checkpoint,
    private readonly options: EngineOptions,
    /** Set for the parity check's own engines, which must not check themselves. */
    private readonly parityRun = false,
  ) {
    this.client = new WorkerClient(options.workerPath);
  }

  static load(target: string, options: EngineOptions = {}): ProbeEngine {
    return new ProbeEngine(loadCheckpoint(target), options);
  }

  /** An engine for a checkpoint assembled by the caller, e.g. golden fixtures that have no tokenizer. */
  static fromCheckpoint(checkpoint: Checkpoint, options: EngineOptions = {}): ProbeEngine {
    return new ProbeEngine(checkpoint, options);
  }

  /** Fast mode asked for (per run, else by the engine's option) and usable on this CPU (int8Kernel.ts). */
  private fastFor(asked: boolean | undefined): boolean {
    return (asked ?? this.options.fast) === true && this.kernel.fast;
  }

  get kernel(): Int8Kernel {
    return this.options.int8Kernel ?? localInt8Kernel();
  }

  get threads(): number {
    return this.options.threads ?? os.availableParallelism();
  }

  /** The most tokens one input may have: the model's positions, or a smaller limit asked for. */
  maxTokens(limit?: number): number {
    const { maxPositions, positionOffset } = this.checkpoint.config;
    return Math.min(maxPositions - positionOffset, limit ?? Infinity);
  }

  /** Tokenizes, checks the ids fit the model, and truncates each input to `maxTokens(limit)`. */
  encode(inputs: ProbeInput[], limit?: number): EncodedText[] {
    const max = this.maxTokens(limit);
    return inputs.map((input, k) => {
      const i = input.index ?? k;
      if (input.text.trim() === '' || (input.pair !== undefined && input.pair.trim() === '')) {
        throw new UserError(`input ${i + 1} is empty: give some text to probe`);
      }
      const { tokenizer } = this.checkpoint;
      const full = tokenizer.encode(input.text, input.pair);
      if (full.ids.length <= max) return this.checkIds(full, i);
      // Too long: cut as HF's `truncation=True, max_length=max` does (longest first, so a pair loses
      // tokens from its longer text, and both keep their special tokens). `truncate` only guards a
      // tokenizer that cannot get under the limit (more special tokens than positions).
      const cut = tokenizer.encode(input.text, input.pair, max);
      return truncate(this.checkIds({ ...cut, truncatedFrom: full.ids.length }, i), max);
    });
  }

  /** Token ids past the embedding table would make ORT's Gather fail deep inside the run. */
  private checkIds(encoded: EncodedText, i: number): EncodedText {
    const { vocabSize } = this.checkpoint.config;
    const bad = encoded.ids.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
    if (bad >= 0) {
      const id = encoded.ids[bad];
      const token = encoded.tokens[bad] ?? '?';
      throw new UserError(
        Number.isInteger(id)
          ? `input ${i + 1}: the tokenizer gives "${token}" id ${id}, but the model has vocab_size ${vocabSize} (config.json): tokenizer and weights disagree`
          : `input ${i + 1}: the tokenizer has no id for "${token}" (does its vocabulary have an unknown token?)`,
        this.checkpoint.tokenizer.file,
      );
    }
    const { typeVocabSize } = this.checkpoint.config;
    const badType = encoded.typeIds.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= typeVocabSize);
    if (badType >= 0) {
      throw new UserError(
        `input ${i + 1}: the tokenizer gives "${encoded.tokens[badType] ?? '?'}" token type ${encoded.typeIds[badType]}, but the model has type ids 0-${typeVocabSize - 1} (type_vocab_size in config.json)`,
        this.checkpoint.tokenizer.file,
      );
    }
    return encoded;
  }

  async probe(inputs: ProbeInput[], options: ProbeOptions = {}): Promise<ProbeReport> {
    if (inputs.length === 0) throw new UserError('nothing to probe: no input text');
    const { config } = this.checkpoint;
    const plan = options.plan ?? identityPlan(config.numLayers);
    checkPlanLength(plan.length);
    const topK = Math.min(options.topK ?? DEFAULT_TOP_K, config.vocabSize);
    if (!Number.isInteger(topK) || topK < 1) throw new UserError(`top-k must be a positive integer, got ${options.topK}`);
    const includeSpecial = options.includeSpecial ?? false;
    const encoded = this.encode(inputs, options.maxTokens);
    const masks = encoded.map((e, i) => this.applyMasks(e, inputs[i], inputs[i].index ?? i));
    const usesMask = masks.some((m) => m.length > 0) || options.pll === true;
    const maskId = usesMask ? this.maskToken().id : -1;
    const limitedBy = this.maxTokens(options.maxTokens) < this.maxTokens() ? `the ${options.maxTokens}-token limit asked for` : `max_position_embeddings ${config.maxPositions}`;
    const warnings = encoded.flatMap((e, i) =>
      e.truncatedFrom
        ? [`input ${(inputs[i].index ?? i) + 1} has ${e.truncatedFrom} tokens; truncated to ${e.ids.length} (${limitedBy})`]
        : [],
    );
    const fast = this.fastFor(options.fast);
    const sublayers = options.sublayers === true;
    const lens = options.lens;
    if (lens) checkLensPlan(lens, plan);
    if (lens && sublayers) throw new UserError('the tuned lens has translators for the layer outputs only, not for the sub-layer (after-attention) states: probe --sublayers with the raw lens');
    if ((options.fast ?? this.options.fast) && !fast) warnings.push(`fast mode was asked for but the exact head ran: ${this.kernel.reason}`);

    const abort = () => void this.cancel();
    options.signal?.addEventListener('abort', abort);
    try {
      throwIfAborted(options.signal);
      await this.ensureSession(plan, topK, fast, { sublayers, lens });
      throwIfAborted(options.signal);
      const all: ProbedSentence[] = new Array(inputs.length);
      let runMs = 0;
      let done = 0;
      let partial = false;
      // Cancelled with keepPartial: keep the batches that finished, unless none did.
      const stopHere = () => options.keepPartial === true && options.signal?.aborted === true && done > 0;
      const calibrations: FastCalibration[] = [];
      for (const chunk of chunkByLength(encoded, this.options.maxTokensPerRun ?? 256)) {
        if ((partial = stopHere())) break;
        throwIfAborted(options.signal);
        const batch = this.toBatch(chunk.map((i) => encoded[i]), chunk.map((i) => targetsOf(encoded[i], masks[i], maskId)));
        let result: Awaited<ReturnType<typeof this.client.run>>;
        try {
          result = await this.client.run(batch);
        } catch (e) {
          if ((partial = stopHere())) break;
          throw e;
        }
        const { output, ms } = result;
        if (!options.keepPartial) throwIfAborted(options.signal);
        runMs += ms;
        if (output.calibration) calibrations.push(output.calibration);
        chunk.forEach((inputIndex, b) => {
          const cells = sliceSentence(output, b * batch.seq, encoded[inputIndex].ids.length);
          // The sub-layer states come first in the graph's output (see buildEncoder).
          const sub = sublayers ? cells.splice(0, plan.length) : undefined;
          all[inputIndex] = {
            index: inputs[inputIndex].index ?? inputIndex,
            text: inputs[inputIndex].text,
            ...(inputs[inputIndex].pair !== undefined ? { pair: inputs[inputIndex].pair } : {}),
            ids: encoded[inputIndex].ids,
            tokens: encoded[inputIndex].tokens,
            special: encoded[inputIndex].special,
            layers: cells,
            ...(encoded[inputIndex].truncatedFrom ? { truncatedFrom: encoded[inputIndex].truncatedFrom } : {}),
            ...(masks[inputIndex].length ? { masks: masks[inputIndex] } : {}),
            ...(sub ? { sublayers: sub } : {}),
          };
        });
        done += chunk.length;
        options.onProgress?.(done, inputs.length);
      }
      // A partial run reports the finished sentences only (whole batches, grouped by length).
      const sentences = partial ? all.filter((s) => s !== undefined) : all;
      if (partial) warnings.push(`cancelled after ${sentences.length} of ${inputs.length} sentences: every figure covers those ${sentences.length} only`);
      const bad = firstNonFiniteLayer(sentences);
      // A mask without a gold token has no target: its log p and rank would score the mask token itself.
      for (const s of sentences) for (const m of s.masks ?? []) if (m.gold === undefined) for (const l of [...s.layers, ...(s.sublayers ?? [])]) blankTarget(l, m.position);
      const aggregates = aggregateLayers(sentences, plan, includeSpecial);
      const rows = sentenceRows(sentences, plan, includeSpecial);
      const plain = aggregates.map(summarizeAggregate);
      const intervals = options.intervals ?? true;
      const summary = intervals ? withIntervals(plain, bootstrapIntervals(rowColumns(rows, plan.length + 1))) : plain;
      const sublayerSummary = sublayers ? aggregateLayers(sentences, plan, includeSpecial, { cells: (s) => s.sublayers, sublayers: true }).map(summarizeAggregate) : undefined;
      const pll = options.pll && !partial ? await this.maskEachInTurn(sentences, encoded, masks, maskId, includeSpecial, options.signal, sublayers ? plan.length : 0) : undefined;
      runMs += pll?.runMs ?? 0;
      if (bad) {
        const where = bad.layer === 0 ? 'h0 (the embeddings)' : `h${bad.layer} (encoder layer ${plan[bad.layer - 1]})`;
        warnings.push(
          `non-finite values (NaN or ±Inf) first appear at ${where}, at ${bad.positions} position(s); ${bad.layers} layer(s) and ${bad.total} cell(s) in all are affected. ` +
            'Their ranks and top-1 are unavailable (shown as –); check the weights for NaN/Inf',
        );
      }
      if (summary[0].count === 0) {
        warnings.push(NOTHING_COUNTED);
      }
      if (this.providerInfo?.fallback) warnings.push(`execution provider: ${this.providerInfo.fallback}; ran on the CPU`);
      const total = inputs.length;
      return {
        schemaVersion: REPORT_SCHEMA_VERSION,
        model: this.modelInfo(),
        plan,
        planText: printPlan(plan),
        topK,
        includeSpecial,
        sentences,
        summary,
        ...(sublayerSummary ? { sublayerSummary } : {}),
        ...(lens ? { lens: { kind: 'tuned' as const, dir: lens.dir, steps: lens.card.steps, corpus: lens.card.corpus.file } } : {}),
        aggregates,
        rows,
        corpus: { totalSentences: total, probed: sentences.length, fullSentences: sentences.length, ...(partial ? { partial: true } : {}) },
        ...(intervals ? { bootstrap: { resamples: BOOTSTRAP_RESAMPLES, seed: BOOTSTRAP_SEED, unit: 'sentence' as const, estimator: 'ratio of sums' as const, interval: 'percentile 2.5/97.5' as const } } : {}),
        vocab: this.vocabFor(sentences),
        warnings,
        timing: {
          sessionMs: this.sessionMs,
          runMs,
          tokens: sentences.reduce((n, s) => n + s.ids.length, 0),
          peakRssMb: process.resourceUsage().maxRSS / 1024,
        },
        ...(fast ? { fast: fastInfo(calibrations, topK, this.kernel.name) } : {}),
        ...(this.providerInfo ? { executionProvider: this.providerInfo } : {}),
        ...(usesMask ? { maskToken: this.maskToken().token } : {}),
        ...(masks.some((m) => m.some((x) => x.gold !== undefined))
          ? { maskSummary: summarizeLayers(sentences, plan, true, { select: (s, p) => goldAt(s, p) !== undefined, target: (s, p) => goldAt(s, p)! }) }
          : {}),
        ...(pll ? pllFigures(aggregateLayers(sentences, plan, includeSpecial, { cells: (s) => s.pll }), pll) : {}),
      };
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  }

  private identity: Pick<ModelInfo, 'weightsBytes' | 'tokenizerFile' | 'tokenizerSha256'> | undefined;

  /** The model as a report names it, with what tells two models apart (weights size, tokenizer hash). */
  modelInfo(): ModelInfo {
    const { config } = this.checkpoint;
    this.identity ??= fileIdentity(this.checkpoint.weights.files, this.checkpoint.tokenizer.file);
    return {
      path: this.checkpoint.location.dir,
      name: this.checkpoint.name,
      family: this.checkpoint.family.displayName,
      modelType: config.modelType,
      numLayers: config.numLayers,
      hiddenSize: config.hiddenSize,
      vocabSize: config.vocabSize,
      weightsFile: this.checkpoint.weights.displayFile,
      dtype: weightsDtype(this.checkpoint),
      ...this.identity,
    };
  }

  /**
   * A token's trajectory through one input (ecco's rankings_watch): its log p and rank at every layer
   * and position, from one more run with every position scored against that token.
   */
  async trajectory(input: ProbeInput, token: number | string, options: Pick<ProbeOptions, 'plan' | 'topK' | 'maxTokens' | 'signal'> = {}): Promise<TokenTrajectory> {
    const { config } = this.checkpoint;
    const plan = options.plan ?? identityPlan(config.numLayers);
    const topK = Math.min(options.topK ?? DEFAULT_TOP_K, config.vocabSize);
    const id = typeof token === 'number' ? token : this.goldId(token, 0, 'the token to follow');
    if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) throw new UserError(`token id ${token} is outside the vocabulary (0-${config.vocabSize - 1})`);
    const [e] = this.encode([input], options.maxTokens);
    this.applyMasks(e, input, 0);
    await this.ensureSession(plan, topK, false); // exact head: ranks far from the top-16 are what a trajectory follows
    throwIfAborted(options.signal);
    const { output } = await this.client.run(this.toBatch([e], [e.ids.map(() => id)]));
    const cells = sliceSentence(output, 0, e.ids.length);
    return { token: id, tokenText: this.checkpoint.tokenizer.idToToken(id), logProb: cells.map((c) => c.inputLogProb), rank: cells.map((c) => c.rank) };
  }

  /** Stops a running probe at once; the worker and its session are freed. */
  async cancel(): Promise<void> {
    this.openSessionKey = undefined;
    await this.client.cancel();
  }

  /** Frees the worker; resolves only once no ORT call is still running (safe to exit the process). */
  async dispose(): Promise<void> {
    this.openSessionKey = undefined;
    await this.client.dispose();
  }

  private async ensureSession(plan: LayerPlan, topK: number, fast: boolean, read: { sublayers?: boolean; lens?: TunedLens } = {}): Promise<void> {
    const key = `${printPlan(plan)}|${topK}|${fast ? 'fast' : 'exact'}|${read.sublayers ? 'sub' : ''}|${read.lens?.dir ?? 'raw'}`;
    if (this.openSessionKey === key && this.client.isRunning) return;
    const { config, resolved } = this.checkpoint;
    const { headBufferBytes, ...tuning } = this.options.tuning ?? {};
    const graphs = buildProbeGraphs({
      config, weights: resolved, plan, topK, headMode: fast ? 'fast' : 'exact', headBufferBytes,
      sublayers: read.sublayers, translators: read.lens?.translators,
    });
    this.openSessionKey = undefined;
    const asked = this.options.executionProvider ?? 'cpu';
    const { provider, parity, refused } = await this.providerToUse(asked);
    const opened = await this.client.open(graphs, this.threads, tuning, provider);
    this.sessionMs = opened.ms;
    const fallback = refused ?? opened.fallback;
    this.providerInfo = asked === 'cpu' ? undefined : {
      asked,
      ran: opened.ran,
      ...(parity ? { parity: { cells: parity.cells, maxAbsLogProb: parity.maxAbsLogProb, top1: parity.top1 } } : {}),
      ...(fallback ? { fallback } : {}),
    };
    this.openSessionKey = key;
  }

  /** Resolves `auto`, then checks a provider against the CPU once per process before it is used. */
  private async providerToUse(asked: ExecutionProviderChoice): Promise<{ provider: ExecutionProvider } & ParityOutcome> {
    const provider = asked === 'auto' ? resolveAuto(process.platform, process.arch, await this.client.providers()) : asked;
    if (provider === 'cpu' || this.parityRun) return { provider };
    const model = this.options.parityModel;
    if (!model) return { provider: 'cpu', refused: `${provider} was not checked against the CPU (no parity model given)` };
    const key = `${provider}|${model}`;
    if (!parityChecks.has(key)) parityChecks.set(key, this.checkParity(provider, model));
    const outcome = await parityChecks.get(key)!;
    return { provider: outcome.refused ? 'cpu' : provider, ...outcome };
  }

  /** Probes the parity inputs on the CPU and on `provider`: every log p within PARITY_TOLERANCE, every top-1 equal. */
  private async checkParity(provider: ExecutionProvider, model: string): Promise<ParityOutcome> {
    const probeOn = async (p: ExecutionProvider) => {
      const engine = new ProbeEngine(loadCheckpoint(model), { threads: this.threads, workerPath: this.options.workerPath, executionProvider: p }, true);
      try {
        return await engine.probe(PARITY_INPUTS, { intervals: false });
      } finally {
        await engine.dispose();
      }
    };
    const cpu = await probeOn('cpu');
    const candidate = await probeOn(provider);
    // It could not start: say why once, instead of trying it again for the run itself.
    if (candidate.executionProvider?.ran !== provider) return { refused: candidate.executionProvider?.fallback ?? `${provider} could not start` };
    const parity = judgeParity(cpu, candidate);
    if (parity.passed) return { parity };
    return {
      parity,
      refused:
        `${provider} refused: on the embedded model its log-probs differ from the CPU's by up to ${parity.maxAbsLogProb.toExponential(1)} ` +
        `(limit ${PARITY_TOLERANCE}) and top-1 agrees on ${(parity.top1 * 100).toFixed(1)}% of ${parity.cells} cells`,
    };
  }

  /** The model's mask token, or one clear line when its tokenizer has none. */
  maskToken(): { id: number; token: string } {
    const mask = this.checkpoint.tokenizer.mask;
    if (!mask) throw new UserError('the tokenizer has no mask token ([MASK] or <mask>), so nothing can be masked', this.checkpoint.tokenizer.file);
    return mask;
  }

  /**
   * Masks the positions asked for (gold: the token that was there) and finds the mask tokens typed
   * in the text (gold: the next --mask-gold, if any). Changes `e` in place.
   */
  private applyMasks(e: EncodedText, input: ProbeInput, i: number): MaskedPosition[] {
    const out: MaskedPosition[] = [];
    const asked = [...new Set(input.maskPositions ?? [])];
    const maskId = this.checkpoint.tokenizer.mask?.id;
    if (asked.length || input.maskGold?.length) this.maskToken();
    for (const p of asked) {
      if (!Number.isInteger(p) || p < 0 || p >= e.ids.length) throw new UserError(`input ${i + 1}: cannot mask token ${p}: it has tokens 0-${e.ids.length - 1}`);
      if (e.special[p]) throw new UserError(`input ${i + 1}: token ${p} ("${e.tokens[p]}") is a special token; mask a word instead`);
    }
    const gold = [...(input.maskGold ?? [])];
    const typed = maskId === undefined ? [] : e.ids.flatMap((id, p) => (id === maskId && !asked.includes(p) ? [p] : []));
    if (gold.length > typed.length) {
      throw new UserError(`input ${i + 1} has ${typed.length} ${this.checkpoint.tokenizer.mask?.token ?? '[MASK]'} token(s) but ${gold.length} gold token(s) were given`);
    }
    for (const p of typed) {
      const word = gold.shift();
      out.push({ position: p, source: 'text', ...(word !== undefined ? { gold: this.goldId(word, i) } : {}) });
    }
    const mask = asked.length ? this.maskToken() : undefined;
    for (const p of asked) {
      out.push({ position: p, source: 'masked', gold: e.ids[p] });
      e.ids[p] = mask!.id;
      e.tokens[p] = mask!.token;
    }
    return out.sort((a, b) => a.position - b.position);
  }

  /** A gold word must be one token of the vocabulary (as written, or lowercased for an uncased model). */
  private goldId(word: string, i: number, what = 'the gold token'): number {
    const tok = this.checkpoint.tokenizer;
    const id = tok.tokenToId(word) ?? tok.tokenToId(word.toLowerCase());
    if (id !== undefined) return id;
    const pieces = tok.encode(word).tokens.filter((_, k, all) => k > 0 && k < all.length - 1);
    throw new UserError(`input ${i + 1}: ${what} "${word}" is not one token of the vocabulary (the tokenizer splits it into ${pieces.map((t) => `"${t}"`).join(' ')})`, tok.file);
  }

  /**
   * Per-layer pseudo-log-likelihood: for each sentence, one copy per counted position with that
   * position alone masked, run as a batch (split only where it passes maxTokensPerRun); the cells at
   * the masked position score the input token.
   */
  private async maskEachInTurn(
    sentences: ProbedSentence[], encoded: EncodedText[], masks: MaskedPosition[][], maskId: number, includeSpecial: boolean, signal?: AbortSignal,
    skipStates = 0,
  ): Promise<{ sequences: number; tokens: number; runMs: number }> {
    let sequences = 0;
    let tokens = 0;
    let runMs = 0;
    for (let i = 0; i < sentences.length; i++) {
      const e = encoded[i];
      const s = sentences[i];
      const positions = e.ids.map((_, p) => p).filter((p) => (includeSpecial || !e.special[p]) && !isMasked(s, p));
      const targets = targetsOf(e, masks[i], maskId);
      const pll = s.layers.map((): LayerCells => ({
        top1: e.ids.map(() => NaN), inputLogProb: e.ids.map(() => NaN), rank: e.ids.map(() => NaN), entropy: e.ids.map(() => NaN), kl: e.ids.map(() => NaN),
        topKIds: e.ids.map(() => []), topKLogProbs: e.ids.map(() => []),
      }));
      const per = Math.max(1, Math.floor((this.options.maxTokensPerRun ?? 256) / e.ids.length));
      for (let start = 0; start < positions.length; start += per) {
        throwIfAborted(signal);
        const group = positions.slice(start, start + per);
        const copies = group.map((p) => ({ ...e, ids: e.ids.map((id, q) => (q === p ? maskId : id)) }));
        const batch = this.toBatch(copies, group.map(() => targets));
        const { output, ms } = await this.client.run(batch);
        throwIfAborted(signal);
        runMs += ms;
        sequences += group.length;
        tokens += group.length * e.ids.length;
        group.forEach((p, b) => {
          const cells = sliceSentence(output, b * batch.seq, e.ids.length).slice(skipStates);
          cells.forEach((c, l) => {
            const into = pll[l];
            into.top1[p] = c.top1[p];
            into.inputLogProb[p] = c.inputLogProb[p];
            into.rank[p] = c.rank[p];
            into.entropy[p] = c.entropy[p];
            into.kl[p] = c.kl[p];
            into.topKIds[p] = c.topKIds[p];
            into.topKLogProbs[p] = c.topKLogProbs[p];
          });
        });
      }
      s.pll = pll;
    }
    return { sequences, tokens, runMs };
  }

  private toBatch(items: EncodedText[], targets?: number[][]): BatchInput {
    const { positionOffset, padTokenId } = this.checkpoint.config;
    const seq = Math.max(...items.map((e) => e.ids.length));
    const n = items.length * seq;
    const batch: BatchInput = {
      batch: items.length,
      seq,
      inputIds: new BigInt64Array(n).fill(BigInt(padTokenId)),
      typeIds: new BigInt64Array(n),
      positionIds: new BigInt64Array(n),
      attentionMask: new Float32Array(n),
      ...(targets ? { targetIds: new BigInt64Array(n).fill(BigInt(padTokenId)) } : {}),
    };
    items.forEach((e, b) => {
      for (let p = 0; p < seq; p++) {
        const at = b * seq + p;
        const real = p < e.ids.length;
        if (real) {
          batch.inputIds[at] = BigInt(e.ids[p]);
          batch.typeIds[at] = BigInt(e.typeIds[p]);
          batch.attentionMask[at] = 1;
          if (batch.targetIds) batch.targetIds[at] = BigInt(targets![b][p]);
        }
        batch.positionIds[at] = BigInt(positionId(p, e.ids.length, positionOffset, padTokenId));
      }
    });
    return batch;
  }

  private vocabFor(sentences: ProbedSentence[]): Record<number, string> {
    const vocab: Record<number, string> = {};
    const add = (id: number) => {
      if (!(id in vocab)) vocab[id] = this.checkpoint.tokenizer.idToToken(id);
    };
    for (const s of sentences) {
      s.ids.forEach(add);
      for (const m of s.masks ?? []) if (m.gold !== undefined) add(m.gold);
      for (const layer of [...s.layers, ...(s.pll ?? []), ...(s.sublayers ?? [])]) layer.topKIds.forEach((ids) => ids.forEach((id) => Number.isFinite(id) && add(id)));
    }
    return vocab;
  }
}

/** Weights size and tokenizer hash; a checkpoint assembled in memory (test fixtures) may have neither file. */
function fileIdentity(weightFiles: string[], tokenizerFile: string): Pick<ModelInfo, 'weightsBytes' | 'tokenizerFile' | 'tokenizerSha256'> {
  const out: Pick<ModelInfo, 'weightsBytes' | 'tokenizerFile' | 'tokenizerSha256'> = {};
  try {
    out.weightsBytes = weightFiles.reduce((n, f) => n + fs.statSync(f).size, 0);
  } catch {
    // no files on disk
  }
  try {
    out.tokenizerSha256 = crypto.createHash('sha256').update(fs.readFileSync(tokenizerFile)).digest('hex');
    out.tokenizerFile = path.basename(tokenizerFile);
  } catch {
    // no tokenizer file
  }
  return out;
}

function pllFigures(aggregates: ProbeReport['aggregates'] & object, cost: NonNullable<ProbeReport['pllCost']>): Pick<ProbeReport, 'pllSummary' | 'pllAggregates' | 'pllCost'> {
  return { pllSummary: aggregates.map(summarizeAggregate), pllAggregates: aggregates, pllCost: cost };
}

/** The run's fast-mode figures: the calibration samples of every batch, pooled. */
function fastInfo(samples: FastCalibration[], topK: number, kernel: string): FastModeInfo {
  const cells = samples.reduce((n, c) => n + c.cells, 0);
  const max = (key: keyof FastCalibration) => samples.reduce((m, c) => Math.max(m, c[key]), 0);
  const sum = (key: keyof FastCalibration) => samples.reduce((n, c) => n + c[key], 0);
  return {
    candidates: Math.max(FAST_CANDIDATES, topK),
    kernel,
    approximate: ['input log-prob', 'top-k log-probs', 'entropy', 'KL', 'rank beyond the candidates'],
    calibration: {
      cells,
      top1Agreement: cells ? sum('top1Agree') / cells : NaN,
      topKAgreement: cells ? sum('topKIdsAgree') / cells : NaN,
      maxAbsInputLogProb: max('maxAbsInputLogProb'),
      meanAbsInputLogProb: cells ? sum('sumAbsInputLogProb') / cells : NaN,
      maxAbsTopKLogProb: max('maxAbsTopKLogProb'),
      maxAbsEntropy: max('maxAbsEntropy'),
      maxAbsKl: max('maxAbsKl'),
      maxAbsRank: max('maxAbsRank'),
    },
  };
}

/** The token each position is scored against: the gold at a mask that has one, else the input token. */
function targetsOf(e: EncodedText, masks: MaskedPosition[], maskId: number): number[] {
  const t = [...e.ids];
  for (const m of masks) t[m.position] = m.gold ?? maskId;
  return t;
}

function blankTarget(cells: LayerCells, p: number): void {
  cells.inputLogProb[p] = NaN;
  cells.rank[p] = NaN;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Groups inputs of similar length so little of each batch is padding. Returns input indices. */
export function chunkByLength(encoded: EncodedText[], maxTokens: number): number[][] {
  const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].ids.length - encoded[b].ids.length);
  const chunks: number[][] = [];
  let current: number[] = [];
  for (const i of order) {
    const seq = encoded[i].ids.length; // sorted ascending, so this is the chunk's max so far
    if (current.length > 0 && (current.length + 1) * seq > maxTokens) {
      chunks.push(current);
      current = [];
    }
    current.push(i);
  }
  if (current.length) chunks.push(current);
  return chunks;
}

function isFiniteCell(inputLogProb: number, topK: number[]): boolean {
  return Number.isFinite(inputLogProb) && topK.every(Number.isFinite);
}

/**
 * The first layer whose outputs hold NaN or ±Inf (rank and top-1 unavailable), and how many
 * positions it touches there and in all, or undefined when every value is finite.
 */
export function firstNonFiniteLayer(sentences: ProbedSentence[]): { layer: number; positions: number; total: number; layers: number } | undefined {
  let first: number | undefined;
  let positions = 0;
  let total = 0;
  const layers = new Set<number>();
  for (const s of sentences) {
    s.layers.forEach((cells, l) => {
      cells.rank.forEach((r) => {
        if (!Number.isNaN(r)) return;
        total++;
        layers.add(l);
        if (first === undefined || l < first) {
          first = l;
          positions = 0;
        }
        if (l === first) positions++;
      });
    });
  }
  return first === undefined ? undefined : { layer: first, positions, total, layers: layers.size };
}

function sliceSentence(out: RawLayerOutputs, start: number, length: number): LayerCells[] {
  const cells: LayerCells[] = [];
  for (let l = 0; l < out.layers; l++) {
    const base = l * out.tokens + start;
    const pick = (a: Float32Array) => Array.from(a.subarray(base, base + length));
    const topKIds: number[][] = [];
    const topKLogProbs: number[][] = [];
    for (let p = 0; p < length; p++) {
      const at = (base + p) * out.k;
      topKIds.push(Array.from(out.topKIds.subarray(at, at + out.k)));
      topKLogProbs.push(Array.from(out.topKLogProbs.subarray(at, at + out.k)));
    }
    const inputLogProb = pick(out.inputLogProb);
    const rank = pick(out.rankAbove).map((r) => r + 1);
    const top1 = topKIds.map((ids) => ids[0]);
    // A distribution with NaN or ±Inf in it has no meaningful order: ORT's TopK still returns ids and
    // the rank count still says 1, so both are marked unavailable (NaN, no top-k) instead.
    for (let p = 0; p < length; p++) {
      if (!isFiniteCell(inputLogProb[p], topKLogProbs[p])) {
        top1[p] = NaN;
        rank[p] = NaN;
        topKIds[p] = [];
        topKLogProbs[p] = [];
      }
    }
    cells.push({
      top1,
      inputLogProb,
      rank,
      entropy: pick(out.entropy),
      kl: pick(out.kl),
      topKIds,
      topKLogProbs,
    });
  }
  return cells;
}
