"""Admission frequency by age band, sex and scheme (negative binomial by maximum likelihood, with
SEs from the numerical Hessian), and suppression of small cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..errors import ExperienceError
from ..scenario import SCHEMES
from .reading import BANDS


# --------------------------------------------------------------------------- numerical helpers
def _hessian(f, x: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of a smooth scalar function (for standard errors of MLEs)."""
    n = x.size
    h = 1e-4 * np.maximum(1.0, np.abs(x))
    hess = np.empty((n, n))
    f0 = f(x)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = h[i]
        hess[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(n)
            ej[j] = h[j]
            hess[i, j] = hess[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h[i] * h[j])
    return hess


def _std_errors(negloglik, x: np.ndarray) -> np.ndarray:
    try:
        cov = np.linalg.inv(_hessian(negloglik, x))
        return np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        return np.full(x.size, np.nan)


# --------------------------------------------------------------------------- frequency
@dataclass(frozen=True)
class FrequencyFit:
    """Episodes per person-year for one stream, in the scenario's multiplicative form.

    ``episodes_by_age`` is for men of the ``reference`` scheme; ``se`` holds the
    standard errors of every parameter of the chosen family (same units; NaN for
    the female factor when the data hold one sex only, which leaves it at 1).
    """

    stream: str
    family: str  # "poisson" or "negative_binomial"
    episodes_by_age: tuple[float, ...]
    female_factor: float
    scheme_factor: dict[str, float]
    dispersion: float
    se: dict[str, float | tuple[float, ...]]
    aic: dict[str, float]
    loglik: dict[str, float]
    reference: str
    table: pd.DataFrame = field(repr=False)


def _frequency_design(claims: pd.DataFrame, enrol: pd.DataFrame, stream: str, name: str):
    sub = claims[claims.stream == stream]
    per_person = sub.groupby("person_id", sort=False).agg(band=("band", "first"), female=("female", "first"),
                                                          scheme=("scheme", "first"), k=("band", "size"))
    cells = enrol[enrol.insured > 0].reset_index(drop=True)
    key = list(zip(cells.band, cells.female, cells.scheme))
    index = {c: i for i, c in enumerate(key)}
    person_cell = np.array([index.get(c, -1) for c in zip(per_person.band, per_person.female, per_person.scheme)], int)
    if (person_cell < 0).any():
        b, f, s = list(zip(per_person.band, per_person.female, per_person.scheme))[int(np.flatnonzero(person_cell < 0)[0])]
        raise ExperienceError(f"{name}: no insured in the cell age_band {BANDS[b]}, sex {'F' if f else 'M'}, "
                              f"scheme {s}, but claims have people in it; the enrolment must cover every claimant's cell")
    kmax = int(per_person.k.max())
    hist = np.zeros((len(cells), kmax + 1))
    np.add.at(hist, (person_cell, per_person.k.to_numpy()), 1.0)
    claimants = hist[:, 1:].sum(axis=1)
    zeros = cells.insured.to_numpy() - claimants
    if (zeros < -1e-9).any():
        i = int(np.flatnonzero(zeros < -1e-9)[0])
        raise ExperienceError(f"{name}: column 'insured': cell {BANDS[cells.band[i]]}/{'F' if cells.female[i] else 'M'}/"
                              f"{cells.scheme[i]} has {cells.insured[i]:g} insured but {claimants[i]:g} people with claims; "
                              f"expected insured >= claimants")
    hist[:, 0] = zeros
    return cells, hist


def fit_frequency(claims: pd.DataFrame, enrol: pd.DataFrame, stream: str = "admissions", min_cell_size: int = 10,
                  name: str = "enrolment") -> FrequencyFit:
    """Maximum-likelihood Poisson and negative binomial fits of one stream; the lower AIC is chosen."""
    cells, hist = _frequency_design(claims, enrol, stream, name)
    k_all = np.arange(hist.shape[1])
    by_band = pd.Series(hist @ k_all).groupby(cells.band.to_numpy()).sum()
    people = float(hist[:, 1:].sum())
    if people < min_cell_size:
        raise ExperienceError(f"{name}: stream {stream!r}: {people:g} people with episodes; a frequency fit needs at "
                              f"least min_cell_size = {min_cell_size} (a rate from fewer is noise, and would identify them)")
    empty = [BANDS[b] for b, v in by_band.items() if v == 0]
    if empty:  # the MLE of a band with no episode is a rate of 0 (a log rate of -inf), not an estimate
        raise ExperienceError(f"{name}: stream {stream!r}: no episodes in age band(s) {empty} among their insured; "
                              f"the rate there cannot be estimated: add data or leave those bands out of the enrolment")
    schemes = [s for s in SCHEMES if s in set(cells.scheme)]
    reference = max(schemes, key=lambda s: cells.insured[cells.scheme == s].sum())
    others = [s for s in schemes if s != reference]
    nb = len(BANDS)
    # Design: band dummies (log base rates), female, one dummy per non-reference scheme. The female
    # column is dropped when the data have one sex only (not identified; the factor stays 1).
    X = np.zeros((len(cells), nb + 1 + len(others)))
    X[np.arange(len(cells)), cells.band.to_numpy()] = 1
    X[:, nb] = cells.female.to_numpy(float)
    for j, s in enumerate(others):
        X[:, nb + 1 + j] = (cells.scheme == s).to_numpy(float)
    free = np.ones(X.shape[1], bool)
    free[nb] = bool(cells.female.any() and (~cells.female).any())
    Xf = X[:, free]
    p = Xf.shape[1]
    k = np.arange(hist.shape[1])
    n_cell = hist.sum(axis=1)
    episodes = hist @ k
    log_kfact = hist @ special.gammaln(k + 1)

    def nll_poisson(beta):
        m = np.exp(Xf @ beta)
        return -(episodes @ np.log(m) - n_cell @ m - log_kfact.sum())

    def nll_negbin(theta):
        beta, r = theta[:-1], math.exp(-theta[-1])  # theta[-1] = log dispersion; r = 1 / dispersion
        m = np.exp(Xf @ beta)[:, None]
        logp = (special.gammaln(k + r) - special.gammaln(r) - special.gammaln(k + 1)
                + r * np.log(r / (r + m)) + k * np.log(m / (r + m)))
        return -float((hist * logp).sum())

    rate0 = np.log(np.maximum(np.bincount(cells.band, weights=episodes, minlength=nb)
                              / np.bincount(cells.band, weights=n_cell, minlength=nb), 1e-6))
    beta0 = np.concatenate([rate0, np.zeros(p - nb)])
    fit_p = optimize.minimize(nll_poisson, beta0, method="BFGS")
    fit_n = optimize.minimize(nll_negbin, np.concatenate([fit_p.x, [math.log(0.5)]]), method="BFGS")
    loglik = {"poisson": -fit_p.fun, "negative_binomial": -fit_n.fun}
    aic = {"poisson": 2 * p + 2 * fit_p.fun, "negative_binomial": 2 * (p + 1) + 2 * fit_n.fun}
    family = min(aic, key=aic.get)
    theta, nll = (fit_p.x, nll_poisson) if family == "poisson" else (fit_n.x, nll_negbin)
    se_free = _std_errors(nll, theta)
    beta, se_theta = np.zeros(X.shape[1]), np.full(X.shape[1], np.nan)
    beta[free], se_theta[free] = theta[:p], se_free[:p]
    rates = np.exp(beta[:nb])
    se = {  # delta method: se(exp(b)) = exp(b) se(b)
        "episodes_by_age": tuple(float(v) for v in rates * se_theta[:nb]),
        "female_factor": float(math.exp(beta[nb]) * se_theta[nb]),
        **{f"scheme_factor.{s}": float(math.exp(beta[nb + 1 + j]) * se_theta[nb + 1 + j]) for j, s in enumerate(others)},
    }
    dispersion = 0.0
    if family == "negative_binomial":
        dispersion = math.exp(theta[-1])
        se["dispersion"] = float(dispersion * se_free[-1])
    fitted = np.exp(X @ beta)
    table = pd.DataFrame({
        "age_band": [BANDS[b] for b in cells.band], "sex": np.where(cells.female, "F", "M"), "scheme": cells.scheme,
        "insured": n_cell, "episodes": episodes, "observed_rate": episodes / n_cell, "fitted_rate": fitted,
    })
    table = suppress(table, table.insured < min_cell_size, ["insured", "episodes", "observed_rate"])
    return FrequencyFit(stream, family, tuple(float(v) for v in rates), float(math.exp(beta[nb])),
                        {reference: 1.0, **{s: float(math.exp(beta[nb + 1 + j])) for j, s in enumerate(others)}},
                        dispersion, se, aic, loglik, reference, table)


def suppress(table: pd.DataFrame, small, columns) -> pd.DataFrame:
    """Blank ``columns`` where ``small`` (too few people to publish) and flag the row ``suppressed``."""
    table = table.copy()
    small = np.asarray(small, bool)
    for c in columns:
        table[c] = table[c].astype(float).where(~small)
    table["suppressed"] = small
    return table
