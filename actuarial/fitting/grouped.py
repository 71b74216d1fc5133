"""Fitting from the banded tables tenders hand out (分段汇总数据): people and amounts by out-of-pocket band.

Purchasers give bidders grouped data, not microdata: for each of the last few
years, how many insured had an annual compliant out-of-pocket cost after basic
insurance (the CII accumulation) in each band — e.g. 5千–1万, 1–2万, …, with an
open top band — and often the band's total amount, with the year's enrolment
(shared/seeds/001 l.717: bidders price on "前三年度高额医疗费用发生情况"). This
module fits a frequency–severity model to such tables by maximum likelihood,
trends it to the contract year and builds a scenario from it. It owns the
grouped-data format and fit; it does not simulate.

Input files (CSV or parquet)
----------------------------
**bands**: one row per (year, scheme, band)

==============  ==========================================================================
``year``        calendar year of the experience, e.g. 2014
``scheme``      optional: ``urban``, ``ncms`` or ``merged`` (default ``merged``)
``band_low``    lower edge of the band, yuan of annual accumulation, >= 0
``band_high``   upper edge, yuan; empty (or ``inf``) for the open top band
``people``      insured persons whose annual accumulation fell in the band, whole number >= 0
``amount``      optional: their total accumulation, yuan (people x band_low <= amount <= people x band_high)
==============  ==========================================================================

The bands of one (year, scheme) must be contiguous and non-overlapping; the
lowest edge is the reporting threshold (people below it are not in the table:
the data are **truncated** there), the top band may be open (**censored**).

**enrolment**: ``year``, optional ``scheme``, ``insured`` (person-years, > 0).

Model
-----
Each insured person-year has a "high-cost year" with probability ``rate`` ×
(1 + ``frequency_trend``)^(year − base year); its annual accumulation X follows a
severity family (lognormal, gamma or the lognormal–Pareto splice of
:mod:`actuarial.config.distributions`) with mean ``mean`` × (1 + ``cost_trend``)^(year − base
year) and coefficient of variation ``cv``. The people in a table are those with
X above the reporting threshold t: their count is Poisson with mean
insured × rate_y × P(X_y > t), and their split over the bands is multinomial with
the band probabilities of X_y given X_y > t. The joint likelihood is maximised
over (log rate per scheme, log(1 + frequency trend), log mean, log cv,
log(1 + cost trend)[, log(alpha − 1)]); standard errors come from the inverse
Hessian (delta method for the natural parameters). Goodness of fit: Pearson's
chi-square of observed and expected people by band, with its p-value, and the
expected against the reported band amounts.

Privacy: a fit keeps parameters, their covariance and a goodness-of-fit table
whose observed amounts are blanked (NaN) in every band with fewer than
``min_cell_size`` people, so no person's amount can be read back from a fit.

>>> import numpy as np
>>> fit = fit_grouped("tests/data/grouped_bands.csv", "tests/data/grouped_enrolment.csv")
>>> sorted(fit.params)[:3]
['cost_trend', 'cv', 'frequency_trend']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import integrate, optimize, stats

from ..config.distributions import make_severity
from ..errors import ExperienceError, GroupedDataError
from .frequency import _hessian
from .reading import _bad, _read, _require
from ..scenario import SCHEMES, Scenario, validate_scenario

BAND_COLUMNS = ("year", "band_low", "band_high", "people")
GROUPED_FAMILIES = ("lognormal", "gamma", "spliced_pareto")


def _row_error(name: str, column: str, i: int, got, expected: str) -> GroupedDataError:
    return GroupedDataError(f"{name}: column '{column}', row {i + 1} (line {i + 2}): {expected} (got {got!r})")


def read_bands(source) -> pd.DataFrame:
    """Read and check a banded table (file or DataFrame); returns year, scheme, band_low, band_high, people, amount.

    >>> read_bands("tests/data/grouped_bands.csv").columns.tolist()
    ['year', 'scheme', 'band_low', 'band_high', 'people', 'amount']
    """
    df, name = _read(source, "bands")
    df.columns = [str(c).strip() for c in df.columns]
    try:
        _require(df, BAND_COLUMNS, name)
        if df.empty:
            raise GroupedDataError(f"{name}: no rows; expected one row per (year, scheme, band)")
        year = pd.to_numeric(df["year"], errors="coerce").to_numpy(float)
        _bad(name, "year", df, ~(np.isfinite(year) & (year == np.round(year)) & (year >= 1990) & (year <= 2100)),
             "a whole year between 1990 and 2100")
        scheme = (df["scheme"].astype(str).str.strip().to_numpy() if "scheme" in df.columns
                  else np.full(len(df), "merged", dtype=object))
        _bad(name, "scheme", df.assign(scheme=scheme), ~np.isin(scheme, SCHEMES), f"one of {list(SCHEMES)}")
        low = pd.to_numeric(df["band_low"], errors="coerce").to_numpy(float)
        _bad(name, "band_low", df, ~(np.isfinite(low) & (low >= 0)), "a number >= 0 (yuan)")
        raw_high = df["band_high"]
        high = pd.to_numeric(raw_high, errors="coerce").to_numpy(float)
        high = np.where(raw_high.isna() | (raw_high.astype(str).str.strip().isin(["", "inf", "Inf", "+inf"])), np.inf, high)
        _bad(name, "band_high", df, ~(high > low), "a number above band_low, or empty for the open top band")
        people = pd.to_numeric(df["people"], errors="coerce").to_numpy(float)
        _bad(name, "people", df, ~(np.isfinite(people) & (people >= 0) & (people == np.round(people))),
             "a whole number >= 0")
        amount = np.full(len(df), np.nan)
        if "amount" in df.columns:
            amount = pd.to_numeric(df["amount"], errors="coerce").to_numpy(float)
            given = df["amount"].notna().to_numpy()
            _bad(name, "amount", df, given & ~(np.isfinite(amount) & (amount >= 0)), "a number >= 0 (yuan) or empty")
            lo_ok = amount >= people * low * (1 - 1e-9)
            hi_ok = amount <= people * high * (1 + 1e-9)
            _bad(name, "amount", df, given & ~(lo_ok & hi_ok), "between people x band_low and people x band_high")
    except ExperienceError as err:
        raise GroupedDataError(str(err)) from None
    out = pd.DataFrame({"year": year.astype(int), "scheme": scheme, "band_low": low, "band_high": high,
                        "people": people, "amount": amount, "_row": np.arange(len(df))})
    for (y, s), g in out.groupby(["year", "scheme"], sort=True):
        g = g.sort_values("band_low")
        lows, highs, rows = g.band_low.to_numpy(), g.band_high.to_numpy(), g._row.to_numpy()
        for k in range(1, len(g)):
            if lows[k] != highs[k - 1]:
                raise _row_error(name, "band_low", int(rows[k]), lows[k],
                                 f"bands of year {y}, scheme {s} must be contiguous: band_low must equal the "
                                 f"previous band's band_high {highs[k - 1]:g}")
        if g.people.sum() == 0:
            raise _row_error(name, "people", int(rows[0]), 0, f"year {y}, scheme {s} has no people in any band")
    return out.sort_values(["year", "scheme", "band_low"]).drop(columns="_row").reset_index(drop=True)


def read_grouped_enrolment(source, bands: pd.DataFrame) -> pd.DataFrame:
    """Read and check an enrolment file (year, optional scheme, insured) covering every (year, scheme) of ``bands``."""
    df, name = _read(source, "enrolment")
    df.columns = [str(c).strip() for c in df.columns]
    try:
        _require(df, ("year", "insured"), name)
        year = pd.to_numeric(df["year"], errors="coerce").to_numpy(float)
        _bad(name, "year", df, ~(np.isfinite(year) & (year == np.round(year))), "a whole year")
        insured = pd.to_numeric(df["insured"], errors="coerce").to_numpy(float)
        _bad(name, "insured", df, ~(np.isfinite(insured) & (insured > 0)), "a number > 0 (person-years)")
        scheme = (df["scheme"].astype(str).str.strip().to_numpy() if "scheme" in df.columns
                  else np.full(len(df), "merged", dtype=object))
        _bad(name, "scheme", df.assign(scheme=scheme), ~np.isin(scheme, SCHEMES), f"one of {list(SCHEMES)}")
    except ExperienceError as err:
        raise GroupedDataError(str(err)) from None
    out = pd.DataFrame({"year": year.astype(int), "scheme": scheme, "insured": insured})
    dup = out.duplicated(["year", "scheme"]).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise _row_error(name, "year", i, int(out.year.iloc[i]), "a second row for the same (year, scheme)")
    need = bands[["year", "scheme"]].drop_duplicates()
    merged = need.merge(out, on=["year", "scheme"], how="left")
    if merged.insured.isna().any():
        y, s = merged[merged.insured.isna()].iloc[0][["year", "scheme"]]
        raise GroupedDataError(f"{name}: column 'insured': no row for year {y}, scheme {s}, which the bands file has")
    return merged


# --------------------------------------------------------------------------- the fit
@dataclass(frozen=True)
class GroupedFit:
    """A frequency-severity fit to banded data (see the module docstring for the model).

    ``params``: ``rate`` (dict by scheme: high-cost years per insured person-year in the base
    year, a fraction), ``frequency_trend`` and ``cost_trend`` (fractions per year), ``mean`` (yuan,
    base year), ``cv`` and, for the splice, ``alpha`` (its ``threshold`` is fixed, yuan). ``se`` has
    the same keys. ``gof``: observed and expected people (and amounts) by year, scheme and band.
    """

    family: str
    base_year: int
    params: dict
    se: dict
    cov: np.ndarray = field(repr=False)
    loglik: float = math.nan
    aic: float = math.nan
    chi2: float = math.nan
    df: int = 0
    p_value: float = math.nan
    threshold: float | None = None
    gof: pd.DataFrame = field(default=None, repr=False)
    min_cell_size: int = 10
    insured: dict = field(default_factory=dict)
    """Insured person-years by scheme in the latest data year (for the built scenario's composition)."""
    warning: str = ""
    """Non-empty when the fit is not to be used (optimum on the edge of the parameter space)."""

    def severity(self, year: int | None = None):
        """The fitted severity (a :mod:`actuarial.config.distributions` object) in ``year`` (default: base year)."""
        k = (1 + self.params["cost_trend"]) ** ((year or self.base_year) - self.base_year)
        thr = None if self.threshold is None else self.threshold * k
        return make_severity(self.family, self.params["mean"] * k, self.params["cv"], thr, self.params.get("alpha"))

    def rate(self, scheme: str, year: int | None = None) -> float:
        """High-cost years per insured person-year of ``scheme`` in ``year`` (fraction)."""
        return self.params["rate"][scheme] * (1 + self.params["frequency_trend"]) ** ((year or self.base_year) - self.base_year)

    def table(self) -> pd.DataFrame:
        """Parameters with standard errors and 95 % intervals (one row each)."""
        rows = []
        for key, value in self.params.items():
            if isinstance(value, dict):
                for s, v in value.items():
                    rows.append((f"{key}[{s}]", v, self.se[key][s]))
            else:
                rows.append((key, value, self.se[key]))
        t = pd.DataFrame(rows, columns=["parameter", "estimate", "se"])
        return t.assign(ci95_low=t.estimate - 1.96 * t.se, ci95_high=t.estimate + 1.96 * t.se)


def _band_cdf(sev, x: np.ndarray) -> np.ndarray:
    return np.where(np.isinf(x), 1.0, sev.cdf(np.where(np.isinf(x), 0.0, x)))


def _partial_mean(sev, a: float, b: float) -> float:
    """E[X; a < X <= b] (yuan) by integration by parts: b F(b) − a F(a) − ∫_a^b F."""
    if math.isinf(b):
        return float(sev.mean()) - _partial_mean(sev, 0.0, a)
    edges = np.geomspace(max(a, 1.0), b, 9) if b > max(a, 1.0) else np.array([a, b])
    pieces = sum(integrate.quad(lambda x: float(sev.cdf(x)), lo, hi, limit=100)[0] for lo, hi in zip(edges[:-1], edges[1:]))
    if a < 1.0:
        pieces += integrate.quad(lambda x: float(sev.cdf(x)), a, min(1.0, b))[0]
    return float(b * sev.cdf(b) - a * sev.cdf(a) - pieces)


def fit_grouped(bands, enrolment, family: str = "lognormal", *, base_year: int | None = None,
                threshold: float | None = None, min_cell_size: int = 10) -> GroupedFit:
    """Fit frequency and severity to banded out-of-pocket data by maximum likelihood.

    Parameters
    ----------
    bands, enrolment : files (CSV / parquet) or DataFrames in the module's format.
    family : "lognormal", "gamma", "spliced_pareto" or "best" (lowest AIC of the three).
    base_year : the year the rate and mean refer to (default: the last data year).
    threshold : the splice's Pareto threshold, yuan in the base year (default: the lower
        edge of the open top band, else of the highest band).
    min_cell_size : bands with fewer people have their observed amount blanked in ``gof``.

    >>> fit = fit_grouped("tests/data/grouped_bands.csv", "tests/data/grouped_enrolment.csv", "lognormal")
    >>> bool(fit.se["mean"] < fit.params["mean"])
    True
    """
    b = read_bands(bands)
    e = read_grouped_enrolment(enrolment, b)
    if family == "best":
        fits = [fit_grouped(b, e, f, base_year=base_year, threshold=threshold, min_cell_size=min_cell_size)
                for f in GROUPED_FAMILIES]
        usable = [f for f in fits if not f.warning] or fits
        return min(usable, key=lambda f: f.aic)
    if family not in GROUPED_FAMILIES:
        raise ValueError(f"family must be one of {list(GROUPED_FAMILIES) + ['best']} (got {family!r})")
    base = int(b.year.max()) if base_year is None else int(base_year)
    schemes = sorted(b.scheme.unique(), key=SCHEMES.index)
    if family == "spliced_pareto" and threshold is None:
        top = b[np.isinf(b.band_high)]
        threshold = float((top if len(top) else b).band_low.max())
    groups = []
    for (y, s), g in b.groupby(["year", "scheme"], sort=True):
        g = g.sort_values("band_low")
        edges = np.append(g.band_low.to_numpy(), g.band_high.to_numpy()[-1])
        insured = float(e[(e.year == y) & (e.scheme == s)].insured.iloc[0])
        groups.append((int(y) - base, schemes.index(s), edges, g.people.to_numpy(), insured))
    n_s = len(schemes)

    def unpack(theta):
        log_rate = theta[:n_s]
        ft, lm, lcv, ct = theta[n_s:n_s + 4]
        alpha = 1 + math.exp(theta[n_s + 4]) if family == "spliced_pareto" else None
        return log_rate, ft, lm, lcv, ct, alpha

    def sev_at(lm, lcv, ct, alpha, dy):
        k = math.exp(ct * dy)
        thr = None if threshold is None else threshold * k
        return make_severity(family, math.exp(lm) * k, math.exp(lcv), thr, alpha)

    # Flat arrays over bands and over (year, scheme) groups. Every family here is a scale family
    # (the splice's threshold moves with the trend), so F_year(x) = F_base(x / k_year): one cdf call.
    g_dy = np.array([dy for dy, *_ in groups], float)
    g_s = np.array([si for _, si, *_ in groups])
    g_t = np.array([ed[0] for _, _, ed, _, _ in groups])
    g_ins = np.array([ins for *_, ins in groups])
    g_n = np.array([p.sum() for _, _, _, p, _ in groups])
    b_g = np.concatenate([np.full(len(p), k) for k, (_, _, _, p, _) in enumerate(groups)])
    b_lo = np.concatenate([ed[:-1] for _, _, ed, _, _ in groups])
    b_hi = np.concatenate([ed[1:] for _, _, ed, _, _ in groups])
    b_n = np.concatenate([p for _, _, _, p, _ in groups])
    open_top = np.isinf(b_hi)
    const = float(sum(math.lgamma(n + 1) for n in g_n))

    def negloglik(theta):
        log_rate, ft, lm, lcv, ct, alpha = unpack(theta)
        if (not (-10 < lm < 20 and -5 < lcv < 3.5) or (alpha is not None and not 1 < alpha < 60)
                or np.any(log_rate >= 0)):  # a rate is a probability per person-year
            return 1e12
        sev = sev_at(lm, lcv, ct, alpha, 0)
        k = np.exp(ct * g_dy)
        x = np.concatenate([b_lo / k[b_g], np.where(open_top, 0.0, b_hi) / k[b_g], g_t / k])
        F = sev.cdf(x)
        nb = b_lo.size
        p_band = np.maximum(np.where(open_top, 1.0, F[nb:2 * nb]) - F[:nb], 1e-300)
        above = np.maximum(1.0 - F[2 * nb:], 1e-300)
        lam = g_ins * np.exp(log_rate[g_s] + ft * g_dy) * above
        return float(-(g_n @ np.log(lam) - lam.sum()) + const  # Poisson count above each threshold
                     - (b_n @ (np.log(p_band) - np.log(above[b_g]))))  # multinomial over the bands

    # Start: band midpoints (open band at 1.5 x its edge) for the severity; rate from counts at S(t) = 1/2.
    mids = np.where(open_top, 1.5 * b_lo, (b_lo + np.where(open_top, 0, b_hi)) / 2)
    m0 = float(np.average(mids, weights=b_n))
    cv0 = max(float(np.sqrt(np.average((mids - m0) ** 2, weights=b_n))) / m0, 0.5)
    rate0 = [math.log(2 * max(g_n[g_s == k].sum(), 1) / g_ins[g_s == k].sum()) for k in range(n_s)]
    theta0 = np.array(rate0 + [0.0, math.log(m0 / 2), math.log(cv0), 0.0] + ([math.log(1.5)] if family == "spliced_pareto" else []))
    best = None
    for shift in (0.0, -0.7):  # two starts for the location: the likelihood of truncated data can be flat
        start = theta0.copy()
        start[n_s + 1] += shift
        res = optimize.minimize(negloglik, start, method="Nelder-Mead",
                                options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-8, "adaptive": True})
        res = optimize.minimize(negloglik, res.x, method="BFGS")
        if best is None or res.fun < best.fun:
            best = res
    theta = best.x
    try:
        cov = np.linalg.inv(_hessian(negloglik, theta))
    except np.linalg.LinAlgError:
        cov = np.full((theta.size, theta.size), np.nan)
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    log_rate, ft, lm, lcv, ct, alpha = unpack(theta)
    # An optimum on the edge of the parameter space (e.g. a family that cannot fit) has no meaningful SE.
    edge = [name for name, hit in (("cv", lcv > 3.4 or lcv < -4.9), ("mean", not -9.9 < lm < 19.9),
                                   ("rate", bool(np.any(log_rate > -1e-3))),
                                   ("alpha", alpha is not None and not 1.001 < alpha < 59)) if hit]
    if edge:
        sd = np.full_like(sd, np.nan)
    params = {"rate": {s: math.exp(log_rate[k]) for k, s in enumerate(schemes)},
              "frequency_trend": math.expm1(ft), "mean": math.exp(lm), "cv": math.exp(lcv), "cost_trend": math.expm1(ct)}
    se = {"rate": {s: math.exp(log_rate[k]) * sd[k] for k, s in enumerate(schemes)},
          "frequency_trend": math.exp(ft) * sd[n_s], "mean": math.exp(lm) * sd[n_s + 1],
          "cv": math.exp(lcv) * sd[n_s + 2], "cost_trend": math.exp(ct) * sd[n_s + 3]}
    if alpha is not None:
        params["alpha"], se["alpha"] = alpha, (alpha - 1) * sd[n_s + 4]
    gof, chi2, n_bands = _goodness_of_fit(b, groups, schemes, base, lambda dy: sev_at(lm, lcv, ct, alpha, dy), min_cell_size)
    dof = max(n_bands - len(groups) - (theta.size - n_s - 1), 1)
    last = e[e.year == e.year.max()]
    insured = {s: float(last[last.scheme == s].insured.sum()) for s in schemes}
    return GroupedFit(family, base, params, se, cov, -best.fun, 2 * best.fun + 2 * theta.size, chi2, dof,
                      float(stats.chi2.sf(chi2, dof)), threshold, gof, min_cell_size, insured,
                      f"{family} optimum on the edge of the parameter space ({', '.join(edge)}): this family does "
                      "not fit these data; SEs are not given" if edge else "")


def _goodness_of_fit(b, groups, schemes, base, sev_at, min_cell_size):
    """Observed vs expected people (and amounts) by band, given each (year, scheme)'s total above its threshold."""
    rows, chi2, n_bands = [], 0.0, 0
    for dy, si, edges, people, _ in groups:
        sev = sev_at(dy)
        cdf = _band_cdf(sev, edges)
        expected = people.sum() * np.diff(cdf) / (1 - cdf[0])
        obs = b[(b.year == base + dy) & (b.scheme == schemes[si])].sort_values("band_low")
        for j in range(len(people)):
            mean_in = _partial_mean(sev, edges[j], edges[j + 1]) / max(cdf[j + 1] - cdf[j], 1e-300)
            amount = obs.amount.iloc[j] if people[j] >= min_cell_size else math.nan
            rows.append({"year": base + dy, "scheme": schemes[si], "band_low": edges[j], "band_high": edges[j + 1],
                         "people": people[j], "expected_people": expected[j], "amount": amount,
                         "expected_amount": people[j] * mean_in})
            if expected[j] > 0:
                chi2 += (people[j] - expected[j]) ** 2 / expected[j]
                n_bands += 1
    return pd.DataFrame(rows), float(chi2), n_bands


# --------------------------------------------------------------------------- to a scenario
def build_grouped_scenario(fit: GroupedFit, base: Scenario, contract_year: int, *, size: int | None = None) -> Scenario:
    """A scenario whose claims are the fitted high-cost years, trended to ``contract_year``.

    The claims become one stream, ``high_cost``: each insured person-year has a Poisson number of
    "episodes" with mean −log(1 − rate), so P(at least one) is the fitted rate of the scheme in the
    contract year; an episode's cost is the fitted annual accumulation X (the severity trended to
    the contract year), wholly compliant and not paid by basic insurance, so the CII accumulation is
    X. The cost trend becomes the fitted one. Population size and scheme shares come from the
    latest enrolment unless ``size`` is given. Figures of the basic layer (cost, basic paid) of the
    built scenario are not meaningful: it prices the CII layer only.

    >>> from actuarial import load_scenario
    >>> fit = fit_grouped("tests/data/grouped_bands.csv", "tests/data/grouped_enrolment.csv")
    >>> sc = build_grouped_scenario(fit, load_scenario("scenarios/provincial_guideline.toml"), 2017)
    >>> sc.claims.streams[0].name
    'high_cost'
    """
    if base.cii.scope and "general" not in base.cii.scope:
        raise ValueError("grouped out-of-pocket data price all-cost designs; the base scenario's cii.scope "
                         f"{list(base.cii.scope)} is a disease list (add 'general' or use another base)")
    rates = {s: fit.rate(s, contract_year) for s in fit.params["rate"]}
    if any(r >= 1 for r in rates.values()):
        raise ValueError(f"the trended rate reaches 1 by {contract_year}: {rates}; the frequency trend "
                         "cannot be carried that far")
    episodes = {s: -math.log1p(-r) for s, r in rates.items()}
    ref = max(episodes, key=episodes.get)
    sev = fit.severity(contract_year)
    spec = {"family": fit.family, "mean": sev.mean() if fit.family != "spliced_pareto" else sev.body.mean(),
            "cv": fit.params["cv"]}
    if fit.family == "spliced_pareto":
        spec |= {"threshold": sev.threshold, "alpha": sev.alpha}
    stream = {"name": "high_cost", "disease": "general", "setting": "outpatient", "prevalence": 1.0,
              "episodes_by_age": [episodes[ref]] * 7, "dispersion": 0.0,
              "scheme_factor": {s: v / episodes[ref] for s, v in episodes.items() if s != ref},
              "level_mix": {"tertiary": 1.0}, "severity": {"tertiary": spec}}
    data = base.model_dump(mode="python")
    data["claims"] |= {"streams": [stream], "compliant_percent": {"tertiary": 100.0},
                       "cost_trend_percent": 100 * fit.params["cost_trend"]}
    data["basic"]["outpatient"] = {"deductible": 0.0, "coinsurance_percent": 0.0}
    schemes = list(fit.params["rate"])
    total = sum(fit.insured.get(s, 0.0) for s in schemes)
    data["population"]["scheme_shares"] = ({s: fit.insured[s] / total for s in schemes} if total > 0
                                           else {s: 1 / len(schemes) for s in schemes})
    if size is not None or total > 0:
        data["population"]["size"] = int(size if size is not None else round(total))
    data["programme"]["notes"] = (f"Claims fitted to banded data ({fit.family}, base year {fit.base_year}), "
                                  f"trended to {contract_year}. " + data["programme"].get("notes", ""))
    data["population"]["poverty_rate_percent"] = {k: v for k, v in data["population"]["poverty_rate_percent"].items()
                                                  if k in schemes}
    return validate_scenario(data, source="<grouped fit>")
