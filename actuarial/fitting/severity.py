"""Episode cost (severity) fits by level: lognormal, gamma, lognormal with a Pareto tail; quantiles
only as means of groups, so no single cost can be recovered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special, stats

from ..config.distributions import make_severity
from ..errors import ExperienceError
from .reading import _MIN_TAIL, _TAIL_QUANTILES, SEVERITY_FAMILIES


# --------------------------------------------------------------------------- severity
@dataclass(frozen=True)
class SeverityFit:
    """Cost per episode at one hospital level: every family's MLE, AIC and the best family.

    ``params[family]`` are in the scenario's terms (``mean``, ``cv`` in yuan and
    a ratio; ``threshold`` yuan and ``alpha`` for the spliced tail). ``se`` holds
    standard errors of the natural parameters (lognormal ``mu``, ``sigma``;
    gamma ``shape``; spliced ``alpha``). ``empirical_quantiles`` are at
    ``probabilities``: each the mean of a group of at least 10 (``min_cell_size``) costs, so no
    individual cost can be recovered (:func:`grouped_quantiles`).
    """

    stream: str
    level: str
    n: int
    params: dict[str, dict[str, float]]
    se: dict[str, dict[str, float]]
    loglik: dict[str, float]
    aic: dict[str, float]
    best: str
    probabilities: np.ndarray = field(repr=False)
    empirical_quantiles: np.ndarray = field(repr=False)

    def distribution(self, family: str | None = None):
        family = family or self.best
        return make_severity(family, **self.params[family])

    def distributions(self) -> dict:
        return {f: self.distribution(f) for f in self.params}

    def spec(self, family: str | None = None) -> dict:
        """The scenario ``severity`` entry for ``family`` (default: the best)."""
        fam = family or self.best
        return {"family": fam, **self.params[fam]}


def _ln_mean_cv(mu: float, sigma: float) -> dict[str, float]:
    return {"mean": float(math.exp(mu + sigma**2 / 2)), "cv": float(math.sqrt(math.expm1(sigma**2)))}


def _spliced_at(x: np.ndarray, logx: np.ndarray, u: float, mu0: float, s0: float):
    """Censored-lognormal body and Hill tail at threshold ``u``: (loglik, mu, sigma, alpha, se_alpha) or None."""
    tail = x > u
    nt = int(tail.sum())
    if nt < _MIN_TAIL or nt == x.size:
        return None
    alpha = nt / float(np.sum(logx[tail] - math.log(u)))
    if not 1.0 < alpha <= 50:
        return None
    body = logx[~tail]

    def nll(p):
        mu, sigma = p[0], math.exp(p[1])
        z = (body - mu) / sigma
        return -(np.sum(-0.5 * z**2 - math.log(sigma) - 0.5 * math.log(2 * math.pi) - body)
                 + nt * special.log_ndtr(-(math.log(u) - mu) / sigma))

    res = optimize.minimize(nll, [mu0, math.log(s0)], method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-8})
    mu, sigma = res.x[0], math.exp(res.x[1])
    ll_tail = nt * math.log(alpha) + alpha * nt * math.log(u) - (alpha + 1) * float(logx[tail].sum())
    return -res.fun + ll_tail, mu, sigma, alpha, alpha / math.sqrt(nt)


def fit_severity(costs: np.ndarray, stream: str = "admissions", level: str = "tertiary",
                 threshold: float | None = None, families=SEVERITY_FAMILIES, min_group: int = 10) -> SeverityFit:
    """Fit the severity families to costs (yuan per episode) by maximum likelihood; choose by AIC.

    ``min_group``: the empirical quantiles kept are means of at least this many costs
    (:func:`grouped_quantiles`). Raises :class:`ExperienceError` for fewer than 2 costs or all equal.
    """
    x = np.asarray(costs, float)
    n = x.size
    where = f"stream {stream!r}, level {level!r}"
    if n < 2 or not np.all(np.isfinite(x) & (x > 0)):
        raise ExperienceError(f"{where}: a severity fit needs at least 2 finite costs > 0 yuan (got {n} episode(s))")
    if np.ptp(x) <= 1e-9 * float(np.max(x)):  # the value is not shown: it would be every person's cost
        raise ExperienceError(f"{where}: all {n} episode costs are equal; no severity distribution can be fitted "
                              "(a spread is needed: check the cost column)")
    logx = np.log(x)
    params, se, loglik, aic = {}, {}, {}, {}
    mu, sigma = float(logx.mean()), float(logx.std())
    if "lognormal" in families:
        params["lognormal"] = _ln_mean_cv(mu, sigma)
        se["lognormal"] = {"mu": sigma / math.sqrt(n), "sigma": sigma / math.sqrt(2 * n)}
        loglik["lognormal"] = float(stats.lognorm.logpdf(x, sigma, scale=math.exp(mu)).sum())
        aic["lognormal"] = 4 - 2 * loglik["lognormal"]
    if "gamma" in families:
        try:
            shape, _, scale = stats.gamma.fit(x, floc=0)
        except (ValueError, RuntimeError, FloatingPointError) as err:
            raise ExperienceError(f"{where}: the gamma fit failed on these {n} costs ({err}); "
                                  "leave 'gamma' out of families") from None
        params["gamma"] = {"mean": float(shape * scale), "cv": float(1 / math.sqrt(shape))}
        se["gamma"] = {"shape": float(math.sqrt(1 / (n * (special.polygamma(1, shape) - 1 / shape))))}
        loglik["gamma"] = float(stats.gamma.logpdf(x, shape, scale=scale).sum())
        aic["gamma"] = 4 - 2 * loglik["gamma"]
    if "spliced_pareto" in families:
        candidates = [float(threshold)] if threshold is not None else [float(np.quantile(x, q)) for q in _TAIL_QUANTILES]
        fits = [(u, f) for u in candidates if (f := _spliced_at(x, logx, u, mu, sigma)) is not None]
        if fits:
            u, (ll, m, s, alpha, se_alpha) = max(fits, key=lambda t: t[1][0])
            params["spliced_pareto"] = {**_ln_mean_cv(m, s), "threshold": u, "alpha": float(alpha)}
            se["spliced_pareto"] = {"alpha": float(se_alpha)}
            loglik["spliced_pareto"] = float(ll)
            aic["spliced_pareto"] = 2 * (3 if threshold is not None else 4) - 2 * ll
    best = min(aic, key=aic.get)
    probs, quantiles = grouped_quantiles(x, min_group)
    return SeverityFit(stream, level, n, params, se, loglik, aic, best, probs, quantiles)


QUANTILE_GROUPS = 20
"""At most this many published empirical quantiles per level (ventiles)."""


def grouped_quantiles(x: np.ndarray, min_group: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Empirical quantiles that reveal no one's cost: (probabilities, yuan).

    The sorted costs are cut into at most :data:`QUANTILE_GROUPS` consecutive groups of at least
    ``min_group`` episodes each, and each group is published as its mean cost at its mean plotting
    position (i + 0.5)/n. A group mean of k ≥ ``min_group`` costs cannot be solved back into the
    costs (micro-aggregation), unlike quantiles on a grid as fine as the data, whose interpolation
    equations return every cost exactly. Fewer than ``min_group`` costs: nothing is published.

    >>> p, q = grouped_quantiles(np.arange(1.0, 41.0), min_group=10)
    >>> p.tolist(), q.tolist()
    ([0.125, 0.375, 0.625, 0.875], [5.5, 15.5, 25.5, 35.5])
    """
    x = np.sort(np.asarray(x, float))
    m = min(QUANTILE_GROUPS, x.size // max(1, int(min_group)))
    if m < 1:
        return np.empty(0), np.empty(0)
    position = (np.arange(x.size) + 0.5) / x.size
    groups = np.array_split(np.arange(x.size), m)
    return (np.array([position[g].mean() for g in groups]), np.array([x[g].mean() for g in groups]))
