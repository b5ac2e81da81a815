/**
 * DeBERTa-v2's relative positions, as HF's build_relative_position / make_log_bucket_position
 * compute them: distance δ = i − j kept as is within ±buckets/2, log-spaced beyond, up to
 * max_relative_positions. The log step runs in float32 there (the tensors are float32 whatever
 * the model's dtype), so it does here: a ceil() near a whole number must round the same way.
 */
import { DisentangledPositions } from './types';

const f32 = Math.fround;

/** make_log_bucket_position for one distance. */
export function relativeBucket(delta: number, buckets: number, maxRelative: number): number {
  if (buckets <= 0 || maxRelative <= 0) return delta;
  const mid = Math.floor(buckets / 2);
  const abs = delta < mid && delta > -mid ? mid - 1 : Math.abs(delta);
  if (abs <= mid) return delta;
  const ratio = f32(f32(Math.log(f32(abs / mid))) / f32(Math.log(f32((maxRelative - 1) / mid))));
  return Math.sign(delta) * (Math.ceil(f32(ratio * (mid - 1))) + mid);
}

/**
 * The rel_embeddings row that c2p (and, transposed, p2c) reads for every distance a sequence of up
 * to `maxLength` tokens can have: entry δ + maxLength − 1 holds clamp(bucket(δ) + span, 0, 2·span − 1).
 */
export function relativeIndexTable(p: DisentangledPositions, maxLength: number): number[] {
  return Array.from({ length: 2 * maxLength - 1 }, (_, k) => {
    const delta = k - (maxLength - 1);
    return Math.min(2 * p.span - 1, Math.max(0, relativeBucket(delta, p.buckets, p.maxRelative) + p.span));
  });
}
