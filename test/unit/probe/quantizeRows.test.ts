/**
 * The fast head's int8 decoder (quantizeRows) against a direct reading of its definition: per
 * output row v, scale = max |W[v]| / 127 and q[k, v] = round(W[v, k] / scale), laid out [H, Vp]
 * with the padding columns zero. Both stored layouts ([V, H] read in row blocks, and its
 * transpose read whole), with V spanning several row blocks and transpose tiles.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensorsHeader, TensorEntry, writeSafetensors } from '../../../src/core/checkpoint/safetensors';
import { quantizeRows } from '../../../src/core/graph/headGraph';
import { gaussian, rng } from '../helpers/random';

/** The definition, one element at a time, from the logical [V, H] matrix. */
function reference(w: (v: number, k: number) => number, V: number, H: number, Vp: number) {
  const q = new Int8Array(H * Vp);
  const scale = new Float32Array(Vp).fill(1);
  for (let v = 0; v < V; v++) {
    let max = 0;
    for (let k = 0; k < H; k++) max = Math.max(max, Math.abs(w(v, k)));
    const s = max > 0 ? max / 127 : 1;
    scale[v] = s;
    for (let k = 0; k < H; k++) q[k * Vp + v] = Math.round(w(v, k) / s);
  }
  return { q, scale };
}

describe('quantizeRows: the int8 decoder of fast mode', () => {
  // 4096-row blocks and 64-row tiles: V = 4100 ends both on a partial one; row 7 is all zeros.
  const V = 4100;
  const H = 24;
  const Vp = 4112;
  const next = gaussian(rng(7));
  const logical = Float32Array.from({ length: V * H }, (_, i) => (Math.floor(i / H) === 7 ? 0 : next() * 0.05));
  const at = (v: number, k: number) => logical[v * H + k];
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-quantize-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function stored(name: string, bytes: Float32Array, shape: number[]): TensorEntry {
    const file = path.join(dir, `${name}.safetensors`);
    writeSafetensors(file, [{ name, dtype: 'F32', shape, byteLength: bytes.byteLength, read: () => new Uint8Array(bytes.buffer) }]);
    return readSafetensorsHeader(file).tensors.get(name)!;
  }

  function check(entry: TensorEntry) {
    const { weight, scale } = quantizeRows(entry, V, H, Vp);
    const want = reference(at, V, H, Vp);
    assert.deepEqual(new Int8Array(weight.buffer, weight.byteOffset, weight.length), want.q);
    assert.deepEqual(scale, want.scale);
    assert.equal(scale[7], 1, 'an all-zero row keeps scale 1');
    const extremes = new Int8Array(weight.buffer).filter((x) => Math.abs(x) === 127).length;
    assert.ok(extremes >= V - 1, `every non-zero row reaches ±127 once (${extremes})`);
  }

  it('a decoder stored [V, H] (PyTorch), read in row blocks', () => {
    check(stored('decoder', logical, [V, H]));
  });

  it('a decoder stored as its transpose [H, V] (an ONNX MatMul initializer)', () => {
    const transposed = new Float32Array(V * H);
    for (let v = 0; v < V; v++) for (let k = 0; k < H; k++) transposed[k * V + v] = at(v, k);
    check({ ...stored('decoder_t', transposed, [H, V]), shape: [V, H], transposed: true });
  });
});
