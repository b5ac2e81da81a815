/**
 * The Student t quantile behind the fine-tune view's paired intervals, computed from the
 * regularized incomplete beta function (src/shared/stats.ts), against published values and against
 * an independent computation in Python.
 */
import * as assert from 'node:assert/strict';
import { logGamma, regIncBeta, sampleSd, studentTCdf, studentTQuantile, tInterval } from '../../../src/shared/stats';

describe('Student t quantile (regularized incomplete beta)', () => {
  it('matches published two-sided 95% critical values t.ppf(0.975, df)', () => {
    // Standard tables (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2; scipy.stats.t.ppf gives the same digits).
    const published: [number, number][] = [
      [1, 12.706204736], [2, 4.302652730], [3, 3.182446305], [4, 2.776445105], [5, 2.570581836],
      [6, 2.446911851], [9, 2.262157163], [10, 2.228138852], [20, 2.085963447], [30, 2.042272456], [100, 1.983971519],
    ];
    for (const [df, t] of published) assert.ok(Math.abs(studentTQuantile(0.975, df) - t) < 1e-8, `df ${df}: ${studentTQuantile(0.975, df)} vs ${t}`);
    // Other levels: t.ppf(0.995, 2), t.ppf(0.95, 5), t.ppf(0.9995, 1).
    assert.ok(Math.abs(studentTQuantile(0.995, 2) - 9.924843201) < 1e-8);
    assert.ok(Math.abs(studentTQuantile(0.95, 5) - 2.015048373) < 1e-8);
    assert.ok(Math.abs(studentTQuantile(0.9995, 1) - 636.6192487) < 1e-5);
    assert.ok(Math.abs(studentTQuantile(0.025, 4) + 2.776445105) < 1e-8, 'lower tail is the negated upper one');
    assert.equal(studentTQuantile(0.5, 3), 0);
  });

  it('matches an independent Python computation (Simpson integration of the t density, math.lgamma only)', () => {
    // .cache/venv/bin/python: pdf(x) = exp(lgamma((df+1)/2) - lgamma(df/2) - log(df*pi)/2 - (df+1)/2*log1p(x*x/df));
    // cdf(t) = 0.5 + Simpson(pdf, 0, t, n=20000); quantile by 60 bisections. Printed values:
    //   q(0.975, 7) = 2.364624251592783   q(0.9, 3) = 1.6377443536962395   q(0.99, 12) = 2.6809979931209877
    //   q(0.975, 2.5) = 3.5746548420037385   cdf(1.5, 4) = 0.8960000000000052   cdf(2.0, 9) = 0.9617235881146546
    // (scipy is not in the venv, so it was not used.)
    assert.ok(Math.abs(studentTQuantile(0.975, 7) - 2.364624251592783) < 1e-8);
    assert.ok(Math.abs(studentTQuantile(0.9, 3) - 1.6377443536962395) < 1e-8);
    assert.ok(Math.abs(studentTQuantile(0.99, 12) - 2.6809979931209877) < 1e-8);
    assert.ok(Math.abs(studentTQuantile(0.975, 2.5) - 3.5746548420037385) < 1e-8, 'non-integer df');
    assert.ok(Math.abs(studentTCdf(1.5, 4) - 0.896) < 1e-10);
    assert.ok(Math.abs(studentTCdf(2.0, 9) - 0.9617235881146546) < 1e-10);
  });

  it('has the special cases right: I_x(a, 1) = x^a, I_x(1, b) = 1 − (1 − x)^b, Γ(5) = 24, Γ(1/2) = √π', () => {
    for (const x of [0.1, 0.5, 0.93]) {
      assert.ok(Math.abs(regIncBeta(x, 2.5, 1) - x ** 2.5) < 1e-12);
      assert.ok(Math.abs(regIncBeta(x, 1, 3) - (1 - (1 - x) ** 3)) < 1e-12);
    }
    assert.ok(Math.abs(logGamma(5) - Math.log(24)) < 1e-12);
    assert.ok(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-12);
    // df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/π.
    for (const t of [-3, 0.2, 7]) assert.ok(Math.abs(studentTCdf(t, 1) - (0.5 + Math.atan(t) / Math.PI)) < 1e-12);
  });

  it('gives the t interval of a mean, and none for a single value', () => {
    const xs = [0.04, -0.01, 0.025];
    const t = tInterval(xs);
    const m = (0.04 - 0.01 + 0.025) / 3;
    const sd = Math.sqrt(((0.04 - m) ** 2 + (-0.01 - m) ** 2 + (0.025 - m) ** 2) / 2);
    assert.ok(Math.abs(t.mean - m) < 1e-15 && Math.abs(t.sd - sd) < 1e-15 && Math.abs(sampleSd(xs) - sd) < 1e-15);
    const half = (4.302652730 * sd) / Math.sqrt(3);
    assert.ok(Math.abs(t.ci![0] - (m - half)) < 1e-10 && Math.abs(t.ci![1] - (m + half)) < 1e-10);
    const one = tInterval([0.047]);
    assert.equal(one.ci, null);
    assert.ok(Number.isNaN(one.sd));
  });
});
