/**
 * The lens against HF's expected outputs, as python/hf_modern.py and python/hf_eurobert.py write
 * them: per sentence, per state, per position, the input token's log-prob and HF's top-5.
 */
import * as assert from 'node:assert/strict';
import { ProbeReport } from '../../../src/core/probe/report';

/** Engine (float32 ONNX) vs HF float64: the bound. */
export const TOLERANCE = 1e-4;
/** Top-1 may differ only where HF's own best two log-probs are closer than this. */
export const TIE = 1e-4;

export interface ExpectedSentence {
  text: string;
  pair: string | null;
  ids: number[];
  input_logp: number[][];
  topk_logp: number[][][];
  topk_ids: number[][][];
}
export interface ExpectedRun {
  plan: number[] | null;
  sentences: ExpectedSentence[];
}
export interface Expected {
  transformers: string;
  /** num_parameters: HF's model.num_parameters() (a tied decoder counted once). */
  cases: Record<string, { layer_types: string[]; num_parameters?: number; runs: ExpectedRun[] }>;
}

/** Engine report vs HF's expected run: every cell within TOLERANCE, top-1 equal outside near-ties. */
export function compareWithHf(report: ProbeReport, run: ExpectedRun, name: string): { maxDelta: number; positions: number; top1Checked: number } {
  let maxDelta = 0;
  let positions = 0;
  let top1Checked = 0;
  report.sentences.forEach((got, b) => {
    const ref = run.sentences[b];
    assert.deepEqual(got.ids, ref.ids, `"${ref.text}": token ids`);
    assert.equal(got.layers.length, ref.input_logp.length, 'state count');
    ref.input_logp.forEach((layer, l) =>
      layer.forEach((want, p) => {
        const where = `${name} plan ${run.plan ? run.plan.join(',') : 'identity'} "${ref.text.slice(0, 30)}" h${l} position ${p}`;
        const cells = got.layers[l];
        const delta = Math.abs(cells.inputLogProb[p] - want);
        maxDelta = Math.max(maxDelta, delta);
        positions++;
        assert.ok(delta <= TOLERANCE, `${where}: log-prob ${cells.inputLogProb[p]} vs HF ${want}`);
        ref.topk_logp[l][p].forEach((v, j) => {
          const d = Math.abs(cells.topKLogProbs[p][j] - v);
          maxDelta = Math.max(maxDelta, d);
          assert.ok(d <= TOLERANCE, `${where}: top-${j + 1} log-prob ${cells.topKLogProbs[p][j]} vs HF ${v}`);
        });
        if (ref.topk_logp[l][p][0] - ref.topk_logp[l][p][1] > TIE) {
          top1Checked++;
          assert.equal(cells.top1[p], ref.topk_ids[l][p][0], `${where}: top-1`);
        }
      }),
    );
  });
  return { maxDelta, positions, top1Checked };
}
