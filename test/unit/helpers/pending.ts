/**
 * Skipping with a stated reason. A test (or a hook, for its whole suite) that cannot run here calls
 * skipBecause(this, reason) instead of this.skip(); the reason is kept on the test or suite, and the
 * reporter (pendingReporter.ts) prints it under every pending test. Any test pending without one is
 * listed as such, and scripts/test.sh fails on those in CI: the suite cannot quietly shrink.
 */
export const PENDING_REASON = Symbol.for('layer-lens.pendingReason');

type WithReason = { [PENDING_REASON]?: string };

export function skipBecause(ctx: Mocha.Context, reason: string): never {
  const runnable = ctx.test as (Mocha.Runnable & { type?: string; parent?: Mocha.Suite }) | undefined;
  // In a hook, skip() makes every test of the suite pending: the reason belongs to the suite.
  const holder = runnable?.type === 'hook' ? runnable.parent : runnable;
  if (holder) (holder as unknown as WithReason)[PENDING_REASON] = reason;
  ctx.skip();
}

/** The reason a pending test was given, by itself or by a suite around it. */
export function pendingReason(test: Mocha.Runnable): string | undefined {
  for (let at: unknown = test; at; at = (at as { parent?: unknown }).parent) {
    const reason = (at as WithReason)[PENDING_REASON];
    if (reason) return reason;
  }
  return undefined;
}
