import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configHoverMarkdown, humanCount } from '../../../src/extension/configHover';

const ROOT = path.resolve(__dirname, '../../../..');
const config = (rel: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(ROOT, rel), 'utf8'));
const BERT = config('test/fixtures/hf-golden/bert/config.json');
const DISTILBERT = config('test/fixtures/hf-golden/distilbert/config.json');
const ALBERT = config('test/fixtures/hf-golden/albert/config.json');

describe('config.json hovers (pure text)', () => {
  it('BERT num_hidden_layers: the meaning plus derived facts (head size, parameters, probe rows)', () => {
    const L = BERT.num_hidden_layers as number;
    const H = BERT.hidden_size as number;
    const A = BERT.num_attention_heads as number;
    const md = configHoverMarkdown(BERT, 'num_hidden_layers')!;
    assert.ok(md, 'no hover');
    assert.match(md, /^\*\*num_hidden_layers\*\* — Number of Transformer encoder layers/);
    assert.ok(md.includes(`${L} layers, hidden ${H}, ${A} heads × head size **${H / A}**`), md);
    assert.match(md, /≈ \*\*[\d.]+ [KMB]? ?parameters\*\*/);
    assert.ok(md.includes(`a probe has **${L + 1} rows** (h0…h${L})`), md);
    assert.match(md, /No probe of this model yet/);
  });

  it('shows the latest probe as a small per-layer table when there is one', () => {
    const summary = [0, 1].map((i) => ({ label: `h${i}`, sourceLayer: i === 0 ? null : i - 1, count: 6, accuracy: 0.5 + i / 4, meanLogProb: -1.5, medianRank: 1, meanEntropy: 2, meanKL: 0.1 }));
    const md = configHoverMarkdown(BERT, 'hidden_size', { summary: summary as never, planText: '0-1', sentences: 1, at: 0 })!;
    assert.match(md, /\*\*Latest probe\*\* \(plan 0-1, 1 sentence\)/);
    assert.match(md, /\| h1 \| 75\.0% \| −1\.50 \| 1 \|/);
  });

  it('DistilBERT n_layers: its own name for the layer count, explained by the family', () => {
    const md = configHoverMarkdown(DISTILBERT, 'n_layers')!;
    assert.match(md, /^\*\*n_layers\*\* — Number of transformer layers \(DistilBERT's name for num_hidden_layers\)/);
    assert.ok(md.includes(`a probe has **${(DISTILBERT.n_layers as number) + 1} rows**`), md);
  });

  it('family-only fields fall back to the descriptor fieldDocs: ALBERT num_hidden_groups, DistilBERT activation / sinusoidal_pos_embds', () => {
    const groups = configHoverMarkdown(ALBERT, 'num_hidden_groups')!;
    assert.match(groups, /^\*\*num_hidden_groups\*\* — Number of distinct weight groups shared across the layers/);
    assert.match(groups, /ALBERT config field/);
    assert.match(groups, /head size/, 'derived facts of the model come along');
    assert.match(configHoverMarkdown(DISTILBERT, 'activation')!, /^\*\*activation\*\* — Activation of the feed-forward block/);
    assert.match(configHoverMarkdown(DISTILBERT, 'sinusoidal_pos_embds')!, /^\*\*sinusoidal_pos_embds\*\* — Whether the position table was filled with fixed sinusoids/);
    // A key neither a size field nor documented by the family: nothing.
    assert.equal(configHoverMarkdown(DISTILBERT, 'num_hidden_groups'), undefined);
    assert.equal(configHoverMarkdown(ALBERT, 'no_such_field'), undefined);
  });

  it('model_type names the family, or lists the supported ones', () => {
    assert.match(configHoverMarkdown(ALBERT, 'model_type')!, /`albert` is read by Layer Lens as \*\*ALBERT\*\*/);
    assert.match(configHoverMarkdown({ model_type: 'gpt2', n_layer: 12 }, 'model_type')!, /not supported by Layer Lens \(supported: bert,/);
    assert.equal(configHoverMarkdown({ model_type: 'gpt2', n_layer: 12 }, 'n_layer'), undefined);
  });

  it('a JSON that is not a model config gets nothing', () => {
    const other = { num_hidden_layers: 3, name: 'not a model' };
    assert.equal(configHoverMarkdown(other, 'num_hidden_layers'), undefined);
    assert.equal(configHoverMarkdown(other, 'name'), undefined);
    assert.equal(configHoverMarkdown([1, 2], 'num_hidden_layers'), undefined);
    assert.equal(configHoverMarkdown(null, 'model_type'), undefined);
    assert.equal(configHoverMarkdown({ model_type: 7 }, 'model_type'), undefined);
  });

  it('a broken model config still explains the field and says what is wrong', () => {
    const md = configHoverMarkdown({ model_type: 'bert', num_hidden_layers: 2 }, 'num_hidden_layers')!;
    assert.match(md, /^\*\*num_hidden_layers\*\*/);
    assert.match(md, /⚠/);
  });

  it('humanCount', () => {
    assert.equal(humanCount(999), '999');
    assert.equal(humanCount(11_200_000), '11.2 M');
    assert.equal(humanCount(1_340_000_000), '1.34 B');
  });
});
