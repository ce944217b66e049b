#!/usr/bin/env python3
"""The most any test can do on issue 10's "+1 point errors" case: an upper bound on power.

The bench (tower-bench judge) sends `rate` requests a second to an endpoint, 10 % of them to the
canary, for 180 s; the baseline fails 0.2 % of requests, the canary 1.2 %. Suppose a test knew the
baseline's error ratio exactly (no test does; knowing less only loses power) and looked once, at
180 s (looking every 10 s, as the bench does, only loses power at the same level). Then the canary's
error count is Poisson, and by the Neyman-Pearson lemma the most powerful level-alpha test of
"ratio <= baseline + tolerance" against "ratio = 1.2 %" rejects for large counts (randomised at
the boundary). Its power bounds every test's, Tower's included.

Run: python3 power_bound.py   (needs scipy)
"""
from scipy import stats

ALPHA = 0.02           # Tower's default: 1 - confidence 0.98, one-sided for errors
SECONDS = 180
SHARE = 0.10
BASE, CANARY = 0.002, 0.012


def np_power(n, null_ratio):
    lam0, lam1 = n * null_ratio, n * CANARY
    k = 0
    while stats.poisson.sf(k - 1, lam0) > ALPHA:   # P(X >= k) under the null
        k += 1
    # randomise at k - 1 to use the whole alpha
    gamma = (ALPHA - stats.poisson.sf(k - 1, lam0)) / stats.poisson.pmf(k - 1, lam0)
    exact = stats.poisson.sf(k - 1, lam1)
    return k, exact, exact + gamma * stats.poisson.pmf(k - 1, lam1)


print(f"scipy {__import__('scipy').__version__}; alpha {ALPHA}, {SECONDS} s, canary share {SHARE:.0%}, "
      f"baseline {BASE:.1%}, canary {CANARY:.1%}")
print("rate/s  canary requests  bound (tolerance 0)  bound (tolerance 0.1 point)")
for rate in (20, 25, 40, 50, 60, 80, 100):
    n = rate * SHARE * SECONDS
    k0, p0, r0 = np_power(n, BASE)
    k1, p1, r1 = np_power(n, BASE + 0.001)
    print(f"{rate:6d}  {n:15.0f}  {r0:6.1%} (>= {k0} errors)  {r1:6.1%} (>= {k1} errors)")
