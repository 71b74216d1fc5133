"""More severity families, each one small class on :class:`actuarial.config.distributions.Severity`.

* :class:`ScipySeverity`: any continuous ``scipy.stats`` family by name and keyword parameters
  (scenario spec ``{family = "scipy", name = "weibull_min", params = {c = 0.9, scale = 9000}}``);
  the base class derives nothing here: scipy's frozen distribution has every hook.
* :class:`Histogram`: an empirical severity, piecewise uniform on bin ``edges`` (yuan) with bin
  ``probabilities`` (scenario spec ``{family = "histogram", edges = [...], probabilities = [...]}``),
  e.g. a claims extract's cost histogram; closed-form cdf, quantile and limited mean.

Both work in every engine (brute, fast, GPU) and the exact method, which only call the
:class:`~actuarial.config.distributions.Severity` surface.

>>> h = Histogram([0, 1000, 5000], [0.5, 0.5])
>>> float(h.mean()), float(h.cdf(1000)), float(h.limited_mean(1000))   # 0.5·500 + 0.5·3000; ∫_0^1000 S
(1750.0, 0.5, 750.0)
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .distributions import Severity


def scipy_family(name: str):
    """The continuous ``scipy.stats`` distribution called ``name``, or a ValueError naming the choices."""
    dist = getattr(stats, name, None)
    if not isinstance(dist, stats.rv_continuous):
        raise ValueError(f"'{name}' is not a continuous scipy.stats distribution (e.g. weibull_min, lognorm, "
                         f"gamma, pareto, genpareto, burr12)")
    return dist


class ScipySeverity(Severity):
    """A continuous ``scipy.stats`` family ``name`` frozen with keyword ``params`` (shape parameters,
    ``loc``, ``scale`` in yuan). Validated: known family, valid parameters, support in [0, ∞), finite mean.

    >>> w = ScipySeverity("weibull_min", {"c": 1.0, "scale": 2000.0})   # exponential, mean 2,000 yuan
    >>> round(w.mean(), 6), round(float(w.isf(np.exp(-1.0))), 6), round(w.limited_mean(2000.0), 3)
    (2000.0, 2000.0, 1264.241)
    """

    def __init__(self, name: str, params: dict):
        self.name, self.params = name, dict(params)
        try:
            self.frozen = scipy_family(name)(**self.params)
            lo, _ = self.frozen.support()
            mean = float(self.frozen.mean())
        except TypeError as e:  # unknown or missing keyword parameters
            raise ValueError(f"parameters {self.params} do not fit scipy.stats.{name} ({e})") from None
        if not np.isfinite(lo) or lo < 0:
            raise ValueError(f"scipy.stats.{name}{self.params} has support from {lo}; a cost needs support in [0, inf)"
                             " (set loc >= 0)")
        if not np.isfinite(mean):
            raise ValueError(f"scipy.stats.{name}{self.params} has no finite mean (got {mean}) or invalid parameters")

    def __repr__(self) -> str:
        return f"ScipySeverity({self.name!r}, {self.params!r})"

    def rvs(self, rng, size):
        return np.asarray(self.frozen.rvs(size=size, random_state=rng), float)

    def _cdf(self, x):
        return self.frozen.cdf(x)

    def _sf(self, x):
        return self.frozen.sf(x)

    def _ppf(self, q):
        return self.frozen.ppf(q)

    def _isf(self, s):
        return self.frozen.isf(s)

    def _mean(self):
        return float(self.frozen.mean())


class Histogram(Severity):
    """Piecewise-uniform severity: bin ``edges`` (yuan, increasing, first ≥ 0) and bin ``probabilities``
    (normalised here). An empirical severity straight from a cost histogram."""

    def __init__(self, edges, probabilities):
        e = np.asarray(edges, float)
        p = np.asarray(probabilities, float)
        if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0) or e[0] < 0 or not np.all(np.isfinite(e)):
            raise ValueError(f"edges must be at least two finite, increasing costs >= 0 (got {[float(x) for x in e]})")
        if p.shape != (e.size - 1,) or np.any(p < 0) or not p.sum() > 0:
            raise ValueError(f"probabilities must be {e.size - 1} numbers >= 0 (one per bin) with a positive sum "
                             f"(got {[float(x) for x in p]})")
        self.edges, self.probabilities = e, p / p.sum()
        self.cum = np.concatenate([[0.0], np.minimum(np.cumsum(self.probabilities), 1.0)])
        self.cum[-1] = 1.0

    def __repr__(self) -> str:
        return f"Histogram({list(self.edges)}, {list(self.probabilities)})"

    def _cdf(self, x):
        return np.interp(x, self.edges, self.cum, left=0.0, right=1.0)

    def _ppf(self, q):
        # The left-most x with F(x) = q: bins of probability 0 are skipped (F is flat there).
        k = np.clip(np.searchsorted(self.cum, q, side="left"), 1, self.edges.size - 1)
        lo, hi = self.cum[k - 1], self.cum[k]
        frac = np.where(hi > lo, (q - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0)
        return self.edges[k - 1] + frac * (self.edges[k] - self.edges[k - 1])

    def _isf(self, s):
        return self._ppf(1.0 - s)

    def _mean(self):
        return float(self.probabilities @ (self.edges[:-1] + self.edges[1:]) / 2)

    def _limited_mean(self, u):
        # ∫_0^u S(x) dx: S is 1 up to the first edge and linear between edges, so trapezoids are exact.
        x = np.concatenate([[0.0], self.edges[self.edges < u], [u]])
        return float(np.trapezoid(self._sf(x), x)) if hasattr(np, "trapezoid") else float(np.trapz(self._sf(x), x))
