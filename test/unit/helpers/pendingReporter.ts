/**
 * The unit tests' reporter: mocha's spec reporter, plus the reason under every pending test and a
 * closing line that scripts/test.sh reads:
 *   pending: N (M with a stated reason, K without)
 * A test skipped with this.skip() or it.skip() has no reason; skipBecause() (pending.ts) gives one.
 */
import Mocha from 'mocha';
import { pendingReason } from './pending';

const { EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

class PendingReasonReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const without: string[] = [];
    let withReason = 0;
    runner.on(EVENT_TEST_PENDING, (test) => {
      const reason = pendingReason(test);
      if (reason) withReason++;
      else without.push(test.fullTitle());
      console.log(`        ${reason ? `reason: ${reason}` : 'NO REASON GIVEN (use skipBecause from test/unit/helpers/pending.ts)'}`);
    });
    runner.once(EVENT_RUN_END, () => {
      console.log(`  pending: ${withReason + without.length} (${withReason} with a stated reason, ${without.length} without)`);
      for (const t of without) console.log(`    pending without a reason: ${t}`);
    });
  }
}

export = PendingReasonReporter;
