"""Frequency and severity families with a small, scipy.stats-like surface.

Each severity family is a frozen :class:`Severity` with ``rvs(rng, size)``, ``cdf(x)``,
``sf(x)``, ``ppf(q)``, ``isf(s)``, ``mean()``, ``limited_mean(u)`` and ``sample(xp, uniforms)``
(numerical defaults in the base class, closed forms where they exist; more families in
:mod:`actuarial.config.severities`). Severities are in yuan per episode. ``rvs`` uses the
numpy ``Generator`` it is given (never the global random state), so every draw
is reproducible from a seed.

>>> import numpy as np
>>> sev = LogNormal(mean=13000, cv=1.4)
>>> round(sev.mean())
13000
>>> sev.rvs(np.random.default_rng(1), 3).shape
(3,)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from ..backend import special as xp_special
from ..backend import standard_gamma, to_numpy


class Severity:
    """Base of every severity family (cost per episode, yuan), in the manner of ``scipy.stats.rv_continuous``.

    Public methods check and shape their arguments and call a private hook; the base derives
    what a family does not give (``_sf = 1 − _cdf``, ``_isf`` from ``_ppf``, ``_limited_mean``
    by quadrature of the survival function, ``_mean`` as the limited mean at infinity, ``rvs``
    and the array-module sampler :meth:`sample` by inverse transform). A family overrides hooks
    where it has closed forms. So no engine switches on a family's type, and a new family is one
    small class (see :class:`ScipySeverity` and :class:`Histogram`).
    """

    # ---- public surface
    def cdf(self, x):
        """P(X ≤ x)."""
        return self._cdf(np.asarray(x, dtype=float))

    def sf(self, x):
        """P(X > x)."""
        return self._sf(np.asarray(x, dtype=float))

    def ppf(self, q):
        """Quantile at probability ``q``."""
        return self._ppf(np.asarray(q, dtype=float))

    def isf(self, s):
        """Inverse survival function: the x with P(X > x) = s (accurate far in the tail, where
        ``ppf(1 − s)`` is not); ``s`` is clipped to [1e-300, 1]."""
        return self._isf(np.clip(np.asarray(s, dtype=float), 1e-300, 1.0))

    def mean(self) -> float:
        """E[X], yuan."""
        return float(self._mean())

    def limited_mean(self, u: float) -> float:
        """E[min(X, u)], yuan (0 for u ≤ 0, the mean for u = ∞)."""
        if u <= 0:
            return 0.0
        if not math.isfinite(u):
            return self.mean()
        return float(self._limited_mean(float(u)))

    def rvs(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws with the numpy Generator ``rng`` (default: inverse transform, one uniform each)."""
        return self.ppf(rng.random(size))

    def sample(self, xp, uniforms):
        """Draws on array module ``xp`` from ``uniforms`` (a callable: ``uniforms()`` gives one uniform per
        draw; ``uniforms(extra, at=idx)`` more, for rejection samplers; see
        :class:`actuarial.backend.CounterUniforms`). Default: inverse transform, :meth:`_xp_ppf`."""
        return self._xp_ppf(xp, uniforms())

    # ---- hooks (a family overrides what it has in closed form)
    def _cdf(self, x):
        return 1.0 - self._sf(x)

    def _sf(self, x):
        return 1.0 - self._cdf(x)

    def _ppf(self, q):
        # Bisection on the cdf over [0, hi] (hi doubled until it covers q): a numerical default.
        q = np.asarray(q, float)
        hi = np.ones_like(q)
        while np.any(self._cdf(hi) < q) and hi.max() < 1e300:
            hi = np.where(self._cdf(hi) < q, hi * 2, hi)
        lo = np.zeros_like(q)
        for _ in range(200):
            mid = (lo + hi) / 2
            below = self._cdf(mid) < q
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return hi

    def _isf(self, s):
        return self._ppf(1.0 - s)

    def _limited_mean(self, u: float) -> float:
        from scipy import integrate

        # E[min(X, u)] = ∫_0^u S(x) dx, split at quantiles so quad sees where the mass is.
        knots = [0.0, *sorted(k for k in np.atleast_1d(self._ppf(np.array([0.5, 0.9, 0.99]))) if 0 < k < u), u]
        return sum(integrate.quad(lambda t: float(self._sf(np.asarray(t))), a, b, limit=200)[0]
                   for a, b in zip(knots, knots[1:]))

    def _mean(self) -> float:
        return self._limited_mean(float(self._isf(np.asarray(1e-12)))) + self._tail_beyond(1e-12)

    def _tail_beyond(self, s: float) -> float:  # E[(X − isf(s))+]: a family with a heavy tail overrides
        return 0.0

    def _xp_ppf(self, xp, u):
        return xp.asarray(self.ppf(to_numpy(u)))


@dataclass(frozen=True)
class _MeanCV(Severity):
    """A severity parameterised by its mean (yuan) and coefficient of variation."""

    mean_: float
    cv: float

    def __init__(self, mean: float, cv: float):
        object.__setattr__(self, "mean_", float(mean))
        object.__setattr__(self, "cv", float(cv))

    def mean(self) -> float:
        return self.mean_


@dataclass(frozen=True, init=False)
class LogNormal(_MeanCV):
    """Lognormal severity by mean (yuan) and coefficient of variation."""

    @property
    def sigma(self) -> float:
        return math.sqrt(math.log1p(self.cv**2))

    @property
    def mu(self) -> float:
        return math.log(self.mean_) - self.sigma**2 / 2

    def rvs(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, size)

    def _cdf(self, x):
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(x, 0)) - self.mu) / self.sigma
        return special.ndtr(z)

    def _sf(self, x):
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(x, 0)) - self.mu) / self.sigma
        return special.ndtr(-z)

    def _ppf(self, q):
        return np.exp(self.mu + self.sigma * special.ndtri(q))

    def _isf(self, s):
        return np.exp(self.mu - self.sigma * special.ndtri(s))

    def _limited_mean(self, u: float) -> float:
        z = (math.log(u) - self.mu) / self.sigma
        return self.mean_ * special.ndtr(z - self.sigma) + u * special.ndtr(-z)

    def _xp_ppf(self, xp, u):
        return xp.exp(self.mu + self.sigma * xp_special(xp).ndtri(u))


@dataclass(frozen=True, init=False)
class Gamma(_MeanCV):
    """Gamma severity by mean (yuan) and coefficient of variation."""

    @property
    def shape(self) -> float:
        return 1.0 / self.cv**2

    @property
    def scale(self) -> float:
        return self.mean_ / self.shape

    def rvs(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.gamma(self.shape, self.scale, size)

    def _cdf(self, x):
        return stats.gamma.cdf(x, self.shape, scale=self.scale)

    def _sf(self, x):
        return stats.gamma.sf(x, self.shape, scale=self.scale)

    def _ppf(self, q):
        return stats.gamma.ppf(q, self.shape, scale=self.scale)

    def _isf(self, s):
        return stats.gamma.isf(s, self.shape, scale=self.scale)

    def _limited_mean(self, u: float) -> float:
        return self.mean() * special.gammainc(self.shape + 1, u / self.scale) + u * float(self.sf(u))

    def sample(self, xp, uniforms):
        """Marsaglia & Tsang's rejection sampler on ``xp`` (:func:`actuarial.backend.standard_gamma`)."""
        return standard_gamma(xp, self.shape, uniforms) * self.scale


@dataclass(frozen=True)
class SplicedPareto(Severity):
    """Lognormal body with a Pareto tail above ``threshold`` (yuan), tail index ``alpha`` > 1.

    Below the threshold the distribution is the lognormal (``mean``, ``cv``);
    the lognormal's mass above the threshold, p = P(LN > u), is redistributed
    as a Pareto: P(X > x) = p (u / x)^alpha for x > u. Heavier tails than the
    lognormal for alpha small (2-3 is typical of hospital costs).
    """

    body: LogNormal
    threshold: float
    alpha: float

    def __init__(self, mean: float, cv: float, threshold: float, alpha: float):
        object.__setattr__(self, "body", LogNormal(mean, cv))
        object.__setattr__(self, "threshold", float(threshold))
        object.__setattr__(self, "alpha", float(alpha))

    @property
    def tail_probability(self) -> float:
        return float(self.body.sf(self.threshold))

    @staticmethod
    def body_mean_for(mean: float, cv: float, threshold: float, alpha: float) -> float:
        """The body's (unspliced lognormal's) mean, yuan, that gives the spliced distribution the mean
        ``mean``: what a scenario's ``mean`` must be for a published mean cost to be the model's.

        >>> body = SplicedPareto.body_mean_for(13_100, 1.2, 100_000, 2.7)
        >>> round(body, 1), round(SplicedPareto(body, 1.2, 100_000, 2.7).mean(), 6)
        (13020.7, 13100.0)
        """
        from scipy.optimize import brentq

        # The spliced mean grows with the body's mean (the body scales and more mass enters the tail).
        return float(brentq(lambda b: SplicedPareto(b, cv, threshold, alpha).mean() - mean, mean / 10, mean * 10,
                            xtol=1e-9, rtol=1e-14))

    def _mean(self) -> float:
        u, a, p = self.threshold, self.alpha, self.tail_probability
        below = self.body.limited_mean(u) - u * p  # E[X; X <= u] of the lognormal
        return below + p * u * a / (a - 1)

    def rvs(self, rng: np.random.Generator, size: int) -> np.ndarray:
        x = self.body.rvs(rng, size)
        tail = x > self.threshold
        if tail.any():
            # Map the lognormal's own conditional tail quantile to the Pareto's:
            # one uniform per draw, so the stream stays aligned with the body.
            v = self.body.sf(x[tail]) / self.tail_probability
            x[tail] = self.threshold * np.power(np.maximum(v, 1e-300), -1.0 / self.alpha)
        return x

    def _sf(self, x):
        u, p = self.threshold, self.tail_probability
        with np.errstate(divide="ignore"):
            tail = p * np.power(u / np.maximum(x, u), self.alpha)
        return np.where(x > u, tail, self.body.sf(x))

    def _ppf(self, q):
        p = self.tail_probability
        body = self.body.ppf(np.minimum(q, 1 - p))
        with np.errstate(divide="ignore"):
            tail = self.threshold * np.power(np.maximum((1 - q) / p, 1e-300), -1.0 / self.alpha)
        return np.where(q > 1 - p, tail, body)

    def _isf(self, s):
        p = self.tail_probability
        return np.where(s < p, self.threshold * np.power(np.minimum(s, p) / p, -1.0 / self.alpha),
                        self.body.isf(np.maximum(s, p)))

    def _limited_mean(self, u: float) -> float:
        t, a, p = self.threshold, self.alpha, self.tail_probability
        if u <= t:
            return self.body.limited_mean(u)
        return self.body.limited_mean(t) + p * t / (a - 1) * (1 - (t / u) ** (a - 1))

    def _xp_ppf(self, xp, u):
        x = self.body._xp_ppf(xp, u)
        # The lognormal's conditional tail quantile (1 - u) / p mapped to the Pareto's, as in rvs.
        tail = self.threshold * xp.maximum((1.0 - u) / self.tail_probability, 1e-300) ** (-1.0 / self.alpha)
        return xp.where(x > self.threshold, tail, x)


def make_severity(family: str, mean: float, cv: float, threshold: float | None = None,
                  alpha: float | None = None) -> Severity:
    """A severity of ``family`` (lognormal, gamma, spliced_pareto) with mean (yuan) and cv; the spliced
    Pareto also takes its threshold (yuan) and tail index."""
    if family == "lognormal":
        return LogNormal(mean, cv)
    if family == "gamma":
        return Gamma(mean, cv)
    return SplicedPareto(mean, cv, threshold, alpha)


_FROM_SPEC: dict[int, tuple] = {}


def severity_from_spec(spec) -> Severity:
    """Build a severity object from a scenario ``severity`` entry (its ``build()``; cached per spec object)."""
    hit = _FROM_SPEC.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    sev = spec.build() if hasattr(spec, "build") else make_severity(
        spec.family, spec.mean, spec.cv, getattr(spec, "threshold", None), getattr(spec, "alpha", None))
    if len(_FROM_SPEC) > 4096:
        _FROM_SPEC.clear()
    _FROM_SPEC[id(spec)] = (spec, sev)  # the spec is kept alive, so its id is not reused meanwhile
    return sev


@dataclass(frozen=True)
class Poisson:
    """Poisson episode count with mean ``mean`` per person-year (array allowed)."""

    def rvs(self, rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
        return rng.poisson(mean)

    def pmf(self, k, mean: float):
        return stats.poisson.pmf(k, mean)


@dataclass(frozen=True)
class NegativeBinomial:
    """Poisson with gamma frailty of mean 1 and variance ``dispersion``: Var N = m + dispersion m²."""

    dispersion: float

    def rvs(self, rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
        k = 1.0 / self.dispersion
        frailty = rng.gamma(k, 1.0 / k, np.shape(mean))
        return rng.poisson(mean * frailty)

    def pmf(self, k, mean: float):
        r = 1.0 / self.dispersion
        return stats.nbinom.pmf(k, r, r / (r + mean))


def frequency_for(dispersion: float) -> Poisson | NegativeBinomial:
    """Poisson when ``dispersion`` is 0, else negative binomial."""
    return Poisson() if dispersion == 0 else NegativeBinomial(dispersion)
