import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { looksLikeMergekit, parseMergekitYaml, planToRanges, printMergekitYaml } from '../../../src/core/deepen/mergekit';
import { identityPlan, parsePlan, printPlan } from '../../../src/core/deepen/plan';
import {
  depthUpscalePlan,
  duplicateLayerPlan,
  duplicateRangePlan,
  parsePresetOrPlan,
  stackPlan,
} from '../../../src/core/deepen/presets';

const planArb = fc.integer({ min: 1, max: 48 }).chain((n) =>
  fc.record({ n: fc.constant(n), plan: fc.array(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: 60 }) }),
);

describe('layer plans', () => {
  it('parse(print(plan)) == plan (property)', () => {
    fc.assert(fc.property(planArb, ({ n, plan }) => assert.deepEqual(parsePlan(printPlan(plan), n), plan)), { numRuns: 500 });
  });

  it('mergekit: parse(print(plan)) == plan, and the model name survives any string (property)', () => {
    fc.assert(
      fc.property(planArb, fc.string({ minLength: 1 }), ({ n, plan }, model) => {
        const back = parseMergekitYaml(printMergekitYaml(plan, model), n);
        assert.deepEqual(back.plan, plan);
        assert.equal(back.model, model);
      }),
      { numRuns: 300 },
    );
  });

  it('errors name the exact part that is wrong', () => {
    assert.throws(() => parsePlan('', 4), /empty/);
    assert.throws(() => parsePlan('0-3,x', 4), /part 2 \("x"\).*malformed/);
    assert.throws(() => parsePlan('0-3,4', 4), /part 2 \("4"\).*out of range.*0-3/);
    assert.throws(() => parsePlan('3-1', 4), /part 1 \("3-1"\).*descending/);
  });

  it('presets', () => {
    assert.deepEqual(duplicateLayerPlan(4, 3), [0, 1, 2, 3, 3]);
    assert.deepEqual(duplicateLayerPlan(4, 0), [0, 0, 1, 2, 3]);
    assert.deepEqual(duplicateRangePlan(6, 2, 3), [0, 1, 2, 3, 2, 3, 4, 5]);
    assert.deepEqual(stackPlan(3), [0, 1, 2, 0, 1, 2]);
    assert.deepEqual(stackPlan(2, 3), [0, 1, 0, 1, 0, 1]);
    // SOLAR: 32 layers, m = 8 → [0,24) + [8,32) = 48 layers
    const solar = depthUpscalePlan(32, 8);
    assert.equal(solar.length, 48);
    assert.deepEqual(solar, [...identityPlan(24), ...identityPlan(32).slice(8)]);
    assert.deepEqual(depthUpscalePlan(4, 0), [0, 1, 2, 3, 0, 1, 2, 3]);
    assert.throws(() => duplicateLayerPlan(4, 4), /layer 4 is out of range: the model has layers 0-3/);
    assert.throws(() => duplicateRangePlan(4, 3, 1), /descending/);
    assert.throws(() => depthUpscalePlan(4, 4), /m must be 0-3/);
    assert.throws(() => stackPlan(4, 1), /≥ 2/);
  });

  it('parsePresetOrPlan reads preset names and explicit plans', () => {
    assert.deepEqual(parsePresetOrPlan('dup:3', 4), [0, 1, 2, 3, 3]);
    assert.deepEqual(parsePresetOrPlan('dup-range:1-2', 4), [0, 1, 2, 1, 2, 3]);
    assert.deepEqual(parsePresetOrPlan('stack', 2), [0, 1, 0, 1]);
    assert.deepEqual(parsePresetOrPlan('stack:3', 1), [0, 0, 0]);
    assert.deepEqual(parsePresetOrPlan('dus:1', 4), [0, 1, 2, 1, 2, 3]);
    assert.deepEqual(parsePresetOrPlan(' 0-3,3 ', 4), [0, 1, 2, 3, 3]);
    assert.throws(() => parsePresetOrPlan('dup:x', 4), /preset "dup:x": the layer must be a non-negative integer/);
    assert.throws(() => parsePresetOrPlan('frob:1', 4), /unknown preset "frob".*dup, dup-range, stack, dus/);
  });

  it('mergekit export uses half-open ranges over runs', () => {
    assert.deepEqual(planToRanges([0, 1, 2, 3, 3]), [[0, 4], [3, 4]]);
    const yaml = printMergekitYaml([0, 1, 2, 3, 3], 'bert-base-uncased');
    assert.match(yaml, /layer_range: \[0, 4\]/);
    assert.match(yaml, /layer_range: \[3, 4\]/);
    assert.match(yaml, /merge_method: passthrough/);
    assert.ok(looksLikeMergekit(yaml));
    assert.ok(!looksLikeMergekit('0-3,3'));
  });

  it('mergekit import reads a SOLAR-style config', () => {
    const yaml = `
slices:
  - sources:
    - model: upstage/base
      layer_range: [0, 24]
  - sources:
    - model: upstage/base
      layer_range: [8, 32]
merge_method: passthrough
dtype: bfloat16
`;
    const r = parseMergekitYaml(yaml, 32);
    assert.deepEqual(r.plan, depthUpscalePlan(32, 8));
    assert.equal(r.model, 'upstage/base');
    assert.equal(r.dtype, 'bfloat16');
  });

  it('mergekit import rejects what a plan cannot honour, with clear messages', () => {
    const slice = (model: string, a: number, b: number, extra = '') =>
      `  - sources:\n      - model: ${model}\n        layer_range: [${a}, ${b}]\n${extra}`;
    const doc = (slices: string, method = 'passthrough', extra = '') => `slices:\n${slices}merge_method: ${method}\n${extra}`;
    assert.throws(() => parseMergekitYaml(doc(slice('a', 0, 4) + slice('b', 3, 4)), 4), /slice 2 uses model "b" but slice 1 uses "a".*several models/);
    assert.throws(() => parseMergekitYaml(doc(slice('a', 0, 4), 'slerp'), 4), /merge_method "slerp" is not supported.*passthrough/);
    assert.throws(
      () => parseMergekitYaml(doc(slice('a', 0, 4, '        parameters:\n          scale: 0.5\n')), 4),
      /slice 1 source has "parameters" \(e.g. scale\)/,
    );
    assert.throws(
      () => parseMergekitYaml(doc(slice('a', 0, 4) + '    parameters:\n      scale: 0.5\n'), 4),
      /slice 1 has "parameters" \(e.g. scale\)/,
    );
    assert.throws(
      () => parseMergekitYaml('slices:\n  - sources:\n      - model: a\n        layer_range: [0, 4]\n      - model: b\n        layer_range: [0, 4]\nmerge_method: passthrough\n', 4),
      /slice 1 has 2 sources/,
    );
    assert.throws(() => parseMergekitYaml(doc(slice('a', 0, 5)), 4), /slice 1 layer_range \[0, 5\] is out of range/);
    assert.throws(() => parseMergekitYaml(doc(slice('a', 2, 2)), 4), /slice 1 layer_range \[2, 2\] is empty.*half-open/);
    assert.throws(() => parseMergekitYaml('models:\n  - model: a\nmerge_method: passthrough\n', 4), /"models:" lists/);
    assert.throws(() => parseMergekitYaml('slices: [\n', 4), /not valid YAML/);
    assert.throws(() => parseMergekitYaml('slices: []\n', 4), /no "merge_method"/);
    assert.throws(() => parseMergekitYaml(doc(slice('a', 0, 4), 'passthrough', 'parameters:\n  scale: 2\n'), 4), /top-level "parameters"/);
  });
});
