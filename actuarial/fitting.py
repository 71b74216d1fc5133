"""Experience data (经验数据): fit a scenario's claims model from claim-level records.

Owns reading and checking experience files, the maximum-likelihood fits and
turning a fit into a :class:`~actuarial.scenario.Scenario`. It does not simulate.

Input files (CSV or parquet)
----------------------------
**claims**: one row per episode (admission 住院, or special outpatient episode):

==============  ==========================================================================
``person_id``   pseudonymous id; only used to count episodes per person, never kept
``age``         age in years at the episode, 0-120
``sex``         ``F`` / ``M`` (also ``female`` / ``male``, ``女`` / ``男``)
``scheme``      ``urban``, ``ncms`` or ``merged``
``level``       hospital level: ``primary``, ``secondary``, ``tertiary``, ``out_of_area``
``cost``        total medical cost of the episode, yuan, > 0
``compliant``   compliant part (合规费用), yuan, 0 ≤ compliant ≤ cost
``basic_paid``  paid by basic insurance (基本医保支付), yuan, 0 ≤ basic_paid ≤ compliant
``stream``      optional: episode stream name (default ``admissions``)
==============  ==========================================================================

**enrolment**: insured person-years by cell (exposure):

==============  ==========================================================================
``age_band``    one of ``0-4``, ``5-14``, ``15-44``, ``45-59``, ``60-69``, ``70-79``, ``80+``
``sex``         as above
``scheme``      as above
``insured``     insured person-years in the cell (people insured the whole year), ≥ 0
==============  ==========================================================================

A person's cell is taken from their first episode (age band, sex, scheme).

Models
------
* Frequency, per stream: episodes per person-year with mean
  ``episodes_by_age[band] × female_factor^female × scheme_factor[scheme]``
  (the scenario's own form), Poisson or negative binomial (gamma frailty,
  Var N = m + dispersion·m²), fitted jointly by maximum likelihood on the
  per-person count distribution of every cell (people with no episode are
  ``insured − people with claims``). The family with the lower AIC wins.
* Severity, per stream and hospital level: lognormal (closed-form MLE), gamma
  (MLE, scipy) and lognormal body spliced with a Pareto tail (censored
  lognormal body + Hill estimate of the tail index; the threshold is profiled
  over upper quantiles unless given). Lowest AIC wins.
* Compliant share (Σ compliant / Σ cost) and basic terms (per-admission
  deductible and coinsurance from the line ``basic_paid = c·(compliant − d)``)
  by level.

Privacy: fits and tables carry no person identifiers; empirical quantiles are
means of groups of at least ``max(min_cell_size, 10)`` costs (no raw cost can be solved back,
see :func:`grouped_quantiles`); any table cell with fewer
than ``min_cell_size`` people (default 10) is suppressed (values NaN,
``suppressed`` True), and a level with fewer people is not fitted (the base
scenario's severity is kept).

>>> fit = fit_experience("tests/data/claims.csv", "tests/data/enrolment.csv")
>>> fit.frequency["admissions"].family
'negative_binomial'
>>> from actuarial import load_scenario
>>> sc = build_scenario(fit, load_scenario("scenarios/provincial_guideline.toml"))
>>> sc.claims.streams[0].name
'admissions'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from . import tables
from .distributions import make_severity
from .scenario import LEVELS, SCHEMES, Scenario, validate_scenario

CLAIMS_COLUMNS = ("person_id", "age", "sex", "scheme", "level", "cost", "compliant", "basic_paid")
ENROLMENT_COLUMNS = ("age_band", "sex", "scheme", "insured")
BANDS = tables.UTILISATION_BAND_LABELS
SEVERITY_FAMILIES = ("lognormal", "gamma", "spliced_pareto")
_SEX = {"F": True, "M": False, "female": True, "male": False, "f": True, "m": False, "女": True, "男": False}
_TAIL_QUANTILES = (0.8, 0.85, 0.9, 0.95, 0.975)
_MIN_TAIL = 20  # tail observations needed to estimate a Pareto index


from .errors import ExperienceError  # noqa: E402  (re-exported: its old home)


# --------------------------------------------------------------------------- reading and checking
def _read(source, what: str) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        return source.copy(), f"<{what} DataFrame>"
    path = Path(source)
    if not path.is_file():
        raise ExperienceError(f"{path}: no such {what} file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path), str(path)
        return pd.read_csv(path), str(path)
    except Exception as err:  # pandas/pyarrow raise many types; the user needs the file and the reason
        raise ExperienceError(f"{path}: cannot read as {'parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'CSV'}: {err}") from None


def _require(df: pd.DataFrame, columns, name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ExperienceError(f"{name}: missing column(s) {missing}; expected columns {list(columns)} "
                              f"(got {list(df.columns)})")


def _bad(name: str, column: str, df: pd.DataFrame, mask, expected: str) -> None:
    mask = np.asarray(mask, bool)
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        raise ExperienceError(f"{name}: column '{column}': {int(mask.sum())} row(s) invalid, first at data row {i + 1} "
                              f"(got {_show(df[column].iloc[i])}); expected {expected}")


def _show(value) -> str:
    """A cell value as the user wrote it: plain Python, never a numpy repr such as ``np.float64(-100.0)``."""
    return repr(value.item() if hasattr(value, "item") else value)


def _numeric(df: pd.DataFrame, column: str, name: str) -> np.ndarray:
    x = pd.to_numeric(df[column], errors="coerce").to_numpy(float)
    _bad(name, column, df, ~np.isfinite(x), "a finite number")
    return x


def _categories(df: pd.DataFrame, column: str, name: str, allowed) -> np.ndarray:
    values = df[column].astype(str).str.strip()
    _bad(name, column, df, ~values.isin(list(allowed)), f"one of {list(allowed)}")
    return values.to_numpy()


def read_claims(source) -> pd.DataFrame:
    """Read and check a claims file (or DataFrame); returns a clean frame with ``female`` and ``band`` added."""
    df, name = _read(source, "claims")
    _require(df, CLAIMS_COLUMNS, name)
    if len(df) == 0:
        raise ExperienceError(f"{name}: no rows; expected one row per episode")
    _bad(name, "person_id", df, df["person_id"].isna(), "a person id in every row")
    age = _numeric(df, "age", name)
    _bad(name, "age", df, (age < 0) | (age > 120), "an age in years between 0 and 120")
    sex = _categories(df, "sex", name, _SEX)
    scheme = _categories(df, "scheme", name, SCHEMES)
    level = _categories(df, "level", name, LEVELS)
    cost = _numeric(df, "cost", name)
    _bad(name, "cost", df, cost <= 0, "a cost in yuan > 0")
    compliant = _numeric(df, "compliant", name)
    _bad(name, "compliant", df, (compliant < 0) | (compliant > cost * (1 + 1e-9) + 0.01),
         "a compliant cost in yuan between 0 and the row's cost")
    basic = _numeric(df, "basic_paid", name)
    _bad(name, "basic_paid", df, (basic < 0) | (basic > compliant * (1 + 1e-9) + 0.01),
         "a basic payment in yuan between 0 and the row's compliant cost")
    stream = df["stream"].astype(str).to_numpy() if "stream" in df.columns else np.full(len(df), "admissions")
    band = tables.utilisation_band(age)
    return pd.DataFrame({
        "person_id": df["person_id"].to_numpy(), "stream": stream, "band": band,
        "female": np.array([_SEX[s] for s in sex]), "scheme": scheme, "level": level,
        "cost": cost, "compliant": compliant, "basic_paid": basic,
    })


def read_enrolment(source) -> pd.DataFrame:
    """Read and check an enrolment table; returns insured by (band index, female, scheme), summed over duplicates."""
    df, name = _read(source, "enrolment")
    _require(df, ENROLMENT_COLUMNS, name)
    band = _categories(df, "age_band", name, BANDS)
    sex = _categories(df, "sex", name, _SEX)
    scheme = _categories(df, "scheme", name, SCHEMES)
    insured = _numeric(df, "insured", name)
    _bad(name, "insured", df, insured < 0, "insured person-years >= 0")
    out = pd.DataFrame({"band": [BANDS.index(b) for b in band], "female": [_SEX[s] for s in sex],
                        "scheme": scheme, "insured": insured})
    out = out.groupby(["band", "female", "scheme"], as_index=False)["insured"].sum()
    have = set(out.loc[out.insured > 0, "band"])
    missing = [BANDS[b] for b in range(len(BANDS)) if b not in have]
    if missing:
        raise ExperienceError(f"{name}: column 'age_band': no insured in band(s) {missing}; every band "
                              f"{list(BANDS)} needs exposure to fit episodes_by_age")
    return out


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


# --------------------------------------------------------------------------- basic terms and compliant share
def level_summaries(claims: pd.DataFrame, min_cell_size: int = 10) -> pd.DataFrame:
    """By level: people, episodes, compliant share (%), effective basic ratio (%), fitted basic deductible and coinsurance (%).

    The basic line is fitted by least squares on episodes the fund paid, then
    refitted without the 1 % worst residuals (annual-cap cases).
    """
    records = []
    for lvl in LEVELS:
        sub = claims[claims.level == lvl]
        if sub.empty:
            continue
        people = sub.person_id.nunique()
        rec = {"level": lvl, "people": people, "episodes": len(sub),
               "compliant_percent": 100 * sub.compliant.sum() / sub.cost.sum(),
               "basic_ratio_percent": 100 * sub.basic_paid.sum() / max(sub.compliant.sum(), 1e-300),
               "basic_deductible": np.nan, "basic_coinsurance_percent": np.nan}
        paid = sub[sub.basic_paid > 0]
        if len(paid) >= 3:
            A = np.column_stack([paid.compliant.to_numpy(), np.ones(len(paid))])
            y = paid.basic_paid.to_numpy()
            coef = np.linalg.lstsq(A, y, rcond=None)[0]
            resid = np.abs(y - A @ coef)
            keep = resid <= np.quantile(resid, 0.99)
            slope, icpt = np.linalg.lstsq(A[keep], y[keep], rcond=None)[0]
            if slope > 0:
                rec["basic_coinsurance_percent"] = 100 * slope
                rec["basic_deductible"] = max(-icpt / slope, 0.0)
        records.append(rec)
    table = pd.DataFrame.from_records(records)
    return suppress(table, table.people < min_cell_size,
                    ["people", "episodes", "compliant_percent", "basic_ratio_percent", "basic_deductible",
                     "basic_coinsurance_percent"])


# --------------------------------------------------------------------------- the whole fit
@dataclass(frozen=True)
class ExperienceFit:
    """Everything fitted from one claims file and its enrolment table (no person identifiers)."""

    frequency: dict[str, FrequencyFit]
    severities: dict[tuple[str, str], SeverityFit]
    level_mix: dict[str, dict[str, float]]
    levels: pd.DataFrame
    scheme_shares: dict[str, float]
    female_share: float
    insured: float
    min_cell_size: int
    sources: tuple[str, str]
    notes: tuple[str, ...] = ()

    def severity(self, level: str, stream: str | None = None) -> SeverityFit:
        stream = stream or next(iter(self.frequency))
        if (stream, level) not in self.severities:
            raise KeyError(f"no severity fit for stream {stream!r} at level {level!r} "
                           f"(fitted: {sorted(self.severities)})")
        return self.severities[(stream, level)]

    def frequency_table(self) -> pd.DataFrame:
        """Observed and fitted episodes per person-year by cell (small cells suppressed)."""
        return pd.concat([f.table.assign(stream=s) for s, f in self.frequency.items()], ignore_index=True)

    def frequency_parameters(self) -> pd.DataFrame:
        """The fitted frequency parameters with standard errors, one row per parameter."""
        rows = []
        for s, f in self.frequency.items():
            for band, v, e in zip(BANDS, f.episodes_by_age, f.se["episodes_by_age"]):
                rows.append((s, f"episodes_by_age[{band}]", v, e))
            rows.append((s, "female_factor", f.female_factor, f.se["female_factor"]))
            for sch, v in f.scheme_factor.items():
                rows.append((s, f"scheme_factor.{sch}", v, f.se.get(f"scheme_factor.{sch}", 0.0)))
            rows.append((s, "dispersion", f.dispersion, f.se.get("dispersion", 0.0)))
        return pd.DataFrame(rows, columns=["stream", "parameter", "estimate", "se"])

    def severity_table(self) -> pd.DataFrame:
        """One row per (stream, level, family): mean, cv, tail, log-likelihood, AIC, and whether it is best."""
        rows = []
        for (s, lvl), f in self.severities.items():
            for fam, p in f.params.items():
                rows.append({"stream": s, "level": lvl, "family": fam, "episodes": f.n, "mean": p["mean"], "cv": p["cv"],
                             "threshold": p.get("threshold", np.nan), "alpha": p.get("alpha", np.nan),
                             "loglik": f.loglik[fam], "aic": f.aic[fam], "best": fam == f.best})
        return pd.DataFrame(rows)

    def plot(self, level: str = "tertiary", kind: str = "qq", ax=None, stream: str | None = None):
        """QQ or CDF goodness-of-fit plot of the severity families at ``level`` (see :mod:`actuarial.plots`)."""
        from .plots import plot_severity_fit

        return plot_severity_fit(self, level, kind, ax=ax, stream=stream)

    def _repr_html_(self) -> str:
        from html import escape

        head = (f"<b>Experience fit</b> from {escape(self.sources[0])}: {self.insured:,.0f} insured person-years; "
                f"cells under {self.min_cell_size} people suppressed")
        freq = self.frequency_parameters().to_html(index=False, float_format=lambda v: f"{v:,.4g}")
        best = self.severity_table()
        best = best[best.best].drop(columns="best").to_html(index=False, float_format=lambda v: f"{v:,.4g}")
        return head + freq + best + "".join(f"<p>{escape(n)}</p>" for n in self.notes)


def fit_experience(claims, enrolment, *, min_cell_size: int = 10, threshold: float | None = None,
                   families=SEVERITY_FAMILIES) -> ExperienceFit:
    """Fit frequency, severity, compliant share and basic terms from claims and enrolment (paths or DataFrames).

    ``threshold`` fixes the spliced-Pareto threshold (yuan) for every level;
    by default it is profiled over upper quantiles of each level's costs.
    """
    if not (isinstance(min_cell_size, int) and min_cell_size >= 1):
        raise ExperienceError(f"min_cell_size must be an integer >= 1 (got {min_cell_size!r})")
    bad = [f for f in families if f not in SEVERITY_FAMILIES]
    if bad or not families:
        raise ExperienceError(f"families must be a non-empty subset of {list(SEVERITY_FAMILIES)} (got {list(families)})")
    c = read_claims(claims)
    e = read_enrolment(enrolment)
    enrol_name = enrolment if not isinstance(enrolment, pd.DataFrame) else "<enrolment DataFrame>"
    frequency, severities, mix, notes = {}, {}, {}, []
    for stream in dict.fromkeys(c.stream):
        sub = c[c.stream == stream]
        frequency[stream] = fit_frequency(c, e, stream, min_cell_size, str(enrol_name))
        counts = sub.level.value_counts()
        mix[stream] = {lvl: float(counts.get(lvl, 0) / len(sub)) for lvl in LEVELS if counts.get(lvl, 0) > 0}
        for lvl in mix[stream]:
            at = sub[sub.level == lvl]
            if at.person_id.nunique() < min_cell_size:
                notes.append(f"stream {stream}, level {lvl}: fewer than {min_cell_size} people; severity not fitted "
                             f"(the base scenario's is kept)")
                continue
            severities[(stream, lvl)] = fit_severity(at.cost.to_numpy(), stream, lvl, threshold, families,
                                                     min_group=max(min_cell_size, 10))
    insured = float(e.insured.sum())
    shares = e.groupby("scheme")["insured"].sum() / insured
    return ExperienceFit(frequency, severities, mix, level_summaries(c, min_cell_size),
                         {s: float(v) for s, v in shares.items() if v > 0},
                         float(e.loc[e.female, "insured"].sum() / insured), insured, min_cell_size,
                         (str(claims) if not isinstance(claims, pd.DataFrame) else "<claims DataFrame>", str(enrol_name)),
                         tuple(notes))


# --------------------------------------------------------------------------- fit → scenario
def build_scenario(fit: ExperienceFit, base: Scenario, *, basic: bool = True, population: bool = True,
                   name: str | None = None) -> Scenario:
    """``base`` with its claims model replaced by the fit, validated.

    Fitted streams replace the base streams of the same name (keeping their
    disease and setting; prevalence becomes 1 because the fit counts every
    insured person) or are added as general inpatient streams; other base
    streams stay. Levels without a severity fit keep the base stream's
    severity. ``compliant_percent`` comes from the fit; with ``basic`` the
    basic inpatient deductible and coinsurance by level too; with
    ``population`` the scheme shares, female share and size (insured).
    """
    data = base.model_dump(mode="python")
    streams = {s["name"]: s for s in data["claims"]["streams"]}
    for sname, f in fit.frequency.items():
        s = dict(streams.get(sname, {"name": sname, "disease": "general", "setting": "inpatient", "severity": {}}))
        severity = dict(s.get("severity", {}))
        for lvl in fit.level_mix[sname]:
            if (sname, lvl) in fit.severities:
                severity[lvl] = fit.severities[(sname, lvl)].spec()
            elif lvl not in severity:
                raise ExperienceError(f"stream {sname!r}, level {lvl!r}: too few people to fit a severity "
                                      f"(< {fit.min_cell_size}) and the base scenario has none for that level")
        s.update(prevalence=1.0, prevalence_age_factor=None, episodes_by_age=f.episodes_by_age,
                 dispersion=f.dispersion, female_factor=f.female_factor, scheme_factor=dict(f.scheme_factor),
                 level_mix=dict(fit.level_mix[sname]), severity=severity)
        streams[sname] = s
    data["claims"]["streams"] = list(streams.values())
    lv = fit.levels.set_index("level")
    compliant = dict(data["claims"]["compliant_percent"])
    for lvl, row in lv.iterrows():
        if np.isfinite(row.compliant_percent):
            compliant[lvl] = float(row.compliant_percent)
            if basic and np.isfinite(row.basic_deductible):
                data["basic"]["inpatient"][lvl] = {"deductible": float(row.basic_deductible),
                                                   "coinsurance_percent": float(min(row.basic_coinsurance_percent, 100.0))}
    data["claims"]["compliant_percent"] = compliant
    if population:
        data["population"].update(scheme_shares=dict(fit.scheme_shares), female_share=fit.female_share,
                                  size=max(1, int(round(fit.insured))))
        kept = set(fit.scheme_shares)
        data["population"]["poverty_rate_percent"] = {k: v for k, v in data["population"]["poverty_rate_percent"].items()
                                                      if k in kept}
    data["programme"]["name"] = name or f"{base.programme.name} (fitted from {Path(fit.sources[0]).name})"
    return validate_scenario(data, source=f"<build_scenario from {fit.sources[0]}>")
