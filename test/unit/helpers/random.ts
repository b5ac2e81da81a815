/** Seeded PRNG (mulberry32) and Gaussian samples, so fixtures are the same on every run. */
import { mulberry32 } from '../../../src/core/probe/bootstrap';

/** The product's own generator (the bootstrap's). */
export const rng = mulberry32;

export function gaussian(next: () => number): () => number {
  return () => {
    const u = Math.max(next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
}
