"""Generate the synthetic experience data in this folder from known parameters (run once; output committed).

    python tests/data/make_claims.py        # from the repository root; refuses to overwrite

Writes ``claims.csv`` (one row per admission) and ``enrolment.csv`` (insured per
age band × sex × scheme) for one simulated year of :data:`TRUE_STREAM` on a
200,000-person population, using the package's own population, claims and
basic-insurance code. ``tests/fitting/test_fitting.py`` checks that
:func:`actuarial.fitting.fit_experience` recovers these parameters. Person ids
are synthetic sequence numbers, not anyone's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from actuarial.model import basic as basicmod  # noqa: E402
from actuarial.config import tables  # noqa: E402
from actuarial.model.claims import simulate_episodes  # noqa: E402
from actuarial.model.population import generate_population  # noqa: E402
from actuarial.scenario import LEVELS, SCHEMES, validate_scenario  # noqa: E402

SIZE = 200_000
SEED = 20240607

TRUE_STREAM = dict(
    name="admissions",
    episodes_by_age=(0.12, 0.05, 0.08, 0.14, 0.22, 0.30, 0.36),
    dispersion=0.8,
    female_factor=1.10,
    scheme_factor={"urban": 1.0, "ncms": 0.85},
    level_mix={"primary": 0.35, "secondary": 0.40, "tertiary": 0.20, "out_of_area": 0.05},
    severity={
        "primary": {"family": "gamma", "mean": 1600, "cv": 0.8},
        "secondary": {"family": "lognormal", "mean": 5000, "cv": 1.1},
        "tertiary": {"family": "spliced_pareto", "mean": 12000, "cv": 0.9, "threshold": 30000, "alpha": 2.0},
        "out_of_area": {"family": "lognormal", "mean": 18000, "cv": 1.3},
    },
)
"""The parameters the data are drawn from (what the fit should recover)."""

# Deliberately not the package defaults, so the tests see the fit move them.
TRUE_COMPLIANT_PERCENT = {"primary": 92.0, "secondary": 88.0, "tertiary": 82.0, "out_of_area": 70.0}
TRUE_BASIC = {level: {"deductible": d, "coinsurance_percent": c}
              for level, d, c in (("primary", 300, 85), ("secondary", 600, 70), ("tertiary", 1200, 55),
                                  ("out_of_area", 2000, 40))}
SCHEME_SHARES = {"urban": 0.3, "ncms": 0.7}
FEMALE_SHARE = 0.49


def true_scenario():
    """A scenario carrying the true parameters (one stream, no trend, no shocks)."""
    return validate_scenario({
        "programme": {"name": "synthetic experience"},
        "population": {"size": SIZE, "scheme_shares": SCHEME_SHARES, "female_share": FEMALE_SHARE},
        "funding": {"per_capita": {"urban": 30, "ncms": 30}},
        "claims": {"streams": [TRUE_STREAM], "compliant_percent": TRUE_COMPLIANT_PERCENT, "cost_trend_percent": 0},
        "basic": {"inpatient": TRUE_BASIC, "annual_cap": 150_000},
        "cii": {"deductible": 8000, "tiers": [{"above": 0, "rate_percent": 50}]},
    }, source="make_claims.py")


def make() -> tuple[pd.DataFrame, pd.DataFrame]:
    sc = true_scenario()
    people = generate_population(sc, seed=SEED)
    ep = simulate_episodes(sc, people, SEED, 0, 0)
    paid, _ = basicmod.episode_payments(sc.basic, ep.compliant, ep.level, np.ones(len(ep), bool))
    paid = basicmod.apply_annual_cap(sc.basic, paid, ep.person, len(people))
    claims = pd.DataFrame({
        "person_id": [f"S{p:06d}" for p in ep.person],
        "age": people.age[ep.person],
        "sex": np.where(people.female[ep.person], "F", "M"),
        "scheme": np.asarray(SCHEMES)[people.scheme[ep.person]],
        "level": np.asarray(LEVELS)[ep.level],
        "cost": ep.cost.round(2),
        "compliant": ep.compliant.round(2),
        "basic_paid": np.minimum(paid.round(2), ep.compliant.round(2)),
    }).sort_values(["person_id", "level"], kind="stable")
    enrol = pd.DataFrame({
        "age_band": np.asarray(tables.UTILISATION_BAND_LABELS)[people.band],
        "sex": np.where(people.female, "F", "M"),
        "scheme": np.asarray(SCHEMES)[people.scheme],
    }).value_counts().rename("insured").reset_index()
    order = {b: i for i, b in enumerate(tables.UTILISATION_BAND_LABELS)}
    enrol = enrol.sort_values(["scheme", "sex", "age_band"], key=lambda c: c.map(order) if c.name == "age_band" else c)
    return claims, enrol


if __name__ == "__main__":
    claims, enrol = make()
    for name, frame in (("claims.csv", claims), ("enrolment.csv", enrol)):
        path = HERE / name
        if path.exists():
            sys.exit(f"{path}: already exists; delete it first to regenerate (nothing was overwritten)")
        frame.to_csv(path, index=False)
        print(f"wrote {path} ({len(frame):,} rows, {path.stat().st_size / 1e6:.2f} MB)")
