"""Frequency and severity families with a small, scipy.stats-like surface.

Each family is a frozen object with ``rvs(rng, size)``, ``cdf(x)``, ``sf(x)``,
``ppf(q)`` and ``mean()``. Severities are in yuan per episode. ``rvs`` uses the
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


@dataclass(frozen=True)
class _MeanCV:
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

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(x, 0)) - self.mu) / self.sigma
        return special.ndtr(z)

    def sf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(x, 0)) - self.mu) / self.sigma
        return special.ndtr(-z)

    def ppf(self, q):
        return np.exp(self.mu + self.sigma * special.ndtri(np.asarray(q, dtype=float)))

    def limited_mean(self, u: float) -> float:
        """E[min(X, u)], yuan."""
        if u <= 0:
            return 0.0
        z = (math.log(u) - self.mu) / self.sigma
        return self.mean_ * special.ndtr(z - self.sigma) + u * special.ndtr(-z)


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

    def cdf(self, x):
        return stats.gamma.cdf(x, self.shape, scale=self.scale)

    def sf(self, x):
        return stats.gamma.sf(x, self.shape, scale=self.scale)

    def ppf(self, q):
        return stats.gamma.ppf(q, self.shape, scale=self.scale)


@dataclass(frozen=True)
class SplicedPareto:
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

    def mean(self) -> float:
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

    def sf(self, x):
        x = np.asarray(x, dtype=float)
        u, p = self.threshold, self.tail_probability
        with np.errstate(divide="ignore"):
            tail = p * np.power(u / np.maximum(x, u), self.alpha)
        return np.where(x > u, tail, self.body.sf(x))

    def cdf(self, x):
        return 1.0 - self.sf(x)

    def ppf(self, q):
        q = np.asarray(q, dtype=float)
        p = self.tail_probability
        body = self.body.ppf(np.minimum(q, 1 - p))
        with np.errstate(divide="ignore"):
            tail = self.threshold * np.power(np.maximum((1 - q) / p, 1e-300), -1.0 / self.alpha)
        return np.where(q > 1 - p, tail, body)


def make_severity(family: str, mean: float, cv: float, threshold: float | None = None,
                  alpha: float | None = None) -> LogNormal | Gamma | SplicedPareto:
    """A severity of ``family`` (lognormal, gamma, spliced_pareto) with mean (yuan) and cv; the spliced
    Pareto also takes its threshold (yuan) and tail index."""
    if family == "lognormal":
        return LogNormal(mean, cv)
    if family == "gamma":
        return Gamma(mean, cv)
    return SplicedPareto(mean, cv, threshold, alpha)


def severity_from_spec(spec) -> LogNormal | Gamma | SplicedPareto:
    """Build a severity object from a scenario ``severity`` entry."""
    return make_severity(spec.family, spec.mean, spec.cv, getattr(spec, "threshold", None), getattr(spec, "alpha", None))



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
