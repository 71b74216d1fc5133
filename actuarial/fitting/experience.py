"""The whole experience fit (frequency, severity, basic terms, compliant share) and the scenario
built from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ExperienceError
from ..results.plots import plot_severity_fit
from ..scenario import LEVELS, Scenario, validate_scenario
from .frequency import FrequencyFit, fit_frequency, suppress
from .reading import BANDS, SEVERITY_FAMILIES, read_claims, read_enrolment
from .severity import SeverityFit, fit_severity


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

    def summary(self) -> pd.DataFrame:
        """Tidy: every fitted parameter with its SE: frequency (by stream) and, per stream and level, the
        best severity family's mean, cv and tail (SE not estimated for severities: NaN)."""
        freq = self.frequency_parameters().assign(part="frequency")
        rows = []
        for (s, lvl), f in self.severities.items():
            for key, value in f.params[f.best].items():
                rows.append({"part": "severity", "stream": s, "parameter": f"{lvl}.{f.best}.{key}",
                             "estimate": value, "se": np.nan})
        return pd.concat([freq, pd.DataFrame(rows)], ignore_index=True)[["part", "stream", "parameter", "estimate", "se"]]

    def to_dict(self) -> dict:
        """JSON-ready: insured, population shares, frequency parameters, severity fits, level mix, notes."""
        return {"insured": float(self.insured), "sources": list(self.sources), "min_cell_size": self.min_cell_size,
                "scheme_shares": dict(self.scheme_shares), "female_share": float(self.female_share),
                "frequency": self.frequency_parameters().to_dict("records"),
                "severity": self.severity_table().to_dict("records"),
                "level_mix": {s: dict(m) for s, m in self.level_mix.items()}, "notes": list(self.notes)}

    def plot(self, level: str = "tertiary", kind: str = "qq", ax=None, stream: str | None = None):
        """QQ or CDF goodness-of-fit plot of the severity families at ``level`` (see :mod:`actuarial.results.plots`)."""
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
