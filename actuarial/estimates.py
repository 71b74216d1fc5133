"""Estimates with their Monte Carlo standard errors: the one home of the SE formulas.

:class:`Estimate` (value, SE, 95 % CI), the ratio estimator over independent replication units
with its delta-method SE, means and probabilities over units, and a distribution-free quantile
CI. :mod:`actuarial.results.simulation` and every module reporting an estimate import them from here.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = 1.959963984540054

@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate with its standard error (same units as the value)."""

    value: float
    se: float
    bounds: tuple[float, float] = dataclasses.field(default=(-math.inf, math.inf), compare=False, repr=False)
    """The quantity's possible range (a probability's [0, 1], a count's [0, ∞)); the CI is clipped to it."""

    def __post_init__(self):  # plain floats, so dicts and JSON never carry numpy scalars
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "se", float(self.se))

    @property
    def ci95(self) -> tuple[float, float]:
        lo, hi = self.bounds
        return (max(self.value - Z95 * self.se, lo), min(self.value + Z95 * self.se, hi))

    def bounded(self, low: float = 0.0, high: float = math.inf) -> "Estimate":
        """The same estimate, its CI clipped to [low, high]."""
        return dataclasses.replace(self, bounds=(low, high))

    def scaled(self, k: float) -> "Estimate":
        return Estimate(self.value * k, self.se * abs(k))

    def to_dict(self) -> dict:
        lo, hi = self.ci95
        return {"estimate": self.value, "se": self.se, "ci95": [lo, hi]}

    def __format__(self, spec: str) -> str:
        spec = spec or ".4g"
        return f"{self.value:{spec}} ± {self.se:{spec}}"


def ratio_estimate(num: np.ndarray, den: np.ndarray) -> Estimate:
    """Σnum / Σden over independent units, with the delta-method (linearisation) standard error."""
    num = np.asarray(num, float).ravel()
    den = np.asarray(den, float).ravel()
    m = num.size
    total = den.sum()
    if total == 0:
        return Estimate(math.nan, math.nan)
    r = num.sum() / total
    if m < 2:
        return Estimate(r, math.nan)
    resid = (num - r * den) / (total / m)
    return Estimate(r, float(np.sqrt(resid.var(ddof=1) / m)))


def mean_estimate(x: np.ndarray) -> Estimate:
    """Mean over independent simulated years with its standard error (same units as ``x``)."""
    x = np.asarray(x, float)
    se = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan
    return Estimate(float(x.mean()), se)


def prob_estimate(event: np.ndarray) -> Estimate:
    """Share of simulated years where ``event`` holds, with a binomial SE floored at 0.5/n
    (so that 0 of n years does not claim certainty)."""
    event = np.asarray(event, bool)
    n = event.size
    p = float(event.mean())
    return Estimate(p, math.sqrt(max(p * (1 - p), 0.25 / n) / n), (0.0, 1.0))


def quantile_ci(values: np.ndarray, q: float, level: float = 0.95) -> tuple[float, float, float]:
    """Sample quantile and a distribution-free CI from order statistics (binomial ranks)."""
    x = np.sort(np.asarray(values, float))
    n = x.size
    est = float(np.quantile(x, q))
    a = (1 - level) / 2
    lo = int(stats.binom.ppf(a, n, q))
    hi = int(stats.binom.ppf(1 - a, n, q)) + 1
    return est, float(x[max(lo - 1, 0)]) if lo >= 1 else -math.inf, float(x[hi - 1]) if hi <= n else math.inf


def lattice_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Smallest of the ascending ``values`` whose cumulative weight reaches the share ``q`` of the total: the
    q-quantile of a weighted law (an exact lattice law, or simulated years weighted 1/n).

    >>> lattice_quantile(np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.3, 0.2]), 0.8)
    2.0
    """
    cum = np.cumsum(weights)
    return float(values[min(int(np.searchsorted(cum, q * cum[-1] - 1e-15)), values.size - 1)])


def tail_mean(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Mean of the worst ``1 − q`` of a weighted law (ascending ``values``, ``weights`` summing to 1):
    (1/(1−q)) ∫_q^1 VaR_u du, each atom counted for its part above level ``q``.

    >>> round(tail_mean(np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.3, 0.2]), 0.7), 6)   # (0.1·2 + 0.2·3) / 0.3
    2.666667
    """
    cum = np.cumsum(weights)
    return float(np.clip(cum - q, 0.0, weights) @ values / (1 - q))


def tvar_estimate(values: np.ndarray, q: float) -> Estimate:
    """Tail value at risk of simulated years — the mean of the worst ``1 − q`` of them, :func:`tail_mean`
    with weights 1/n, as for an exact law — with its delta-method SE.

    The SE counts both the spread of the tail years and the estimation of the level they start at:
    Var ≈ [Var(X | X > v) + q·(TVaR − v)²] / (n·(1 − q)), v the q-quantile (the influence function of
    the tail mean). Without the second term a 10 % tail reads roughly half as uncertain as it is.

    >>> x = np.random.default_rng(0).exponential(size=400_000)   # TVaR_0.9 = ln 10 + 1, SE = sqrt(19 / n)
    >>> est = tvar_estimate(x, 0.9)
    >>> round(est.value, 1), round(est.se / math.sqrt(19 / x.size), 1)
    (3.3, 1.0)
    """
    x = np.sort(np.asarray(values, float))
    n = x.size
    weights = np.full(n, 1 / n)
    value = tail_mean(x, weights, q)
    tail = x[int(math.floor(q * n)):]
    if tail.size < 2:
        return Estimate(value, math.nan)
    level = lattice_quantile(x, weights, q)
    se = math.sqrt((tail.var(ddof=1) + q * (value - level) ** 2) / (n * (1 - q)))
    return Estimate(value, se)
