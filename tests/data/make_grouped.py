"""Generate the banded (grouped) experience tables in this folder from known parameters, with the model itself.

    python tests/data/make_grouped.py        # from the repository root; refuses to overwrite

For each data year 2014-2016 the scenario that :func:`actuarial.fitting.grouped.build_grouped_scenario`
makes from :data:`TRUTH` is simulated by the brute-force engine (one simulated year, its own
seed) and the people whose CII accumulation reaches the reporting threshold are counted, with
their total amount, by out-of-pocket band (open top band). Writes ``grouped_bands.csv`` and
``grouped_enrolment.csv``; ``tests/fitting/test_grouped.py`` checks that :func:`actuarial.fitting.grouped.fit_grouped`
recovers :data:`TRUTH`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from actuarial import load_scenario  # noqa: E402
from actuarial.engines.engine import accumulate  # noqa: E402
from actuarial.fitting.grouped import GroupedFit, build_grouped_scenario  # noqa: E402

SIZE = {"urban": 120_000, "ncms": 180_000}
YEARS = (2014, 2015, 2016)
EDGES = (5_000, 10_000, 20_000, 50_000, 100_000, np.inf)
TRUTH = GroupedFit("lognormal", 2016, {"rate": {"urban": 0.025, "ncms": 0.018}, "frequency_trend": 0.0,
                                        "mean": 6_000.0, "cv": 1.6, "cost_trend": 0.08},
                   se={}, cov=np.zeros((0, 0)), insured=dict(SIZE))
"""The parameters the data are drawn from (rate: high-cost years per insured person-year, 2016)."""


def accumulations(year: int) -> dict[str, np.ndarray]:
    """Annual accumulations (yuan) >= the lowest edge, by scheme, for ``year``."""
    base = load_scenario(HERE.parents[1] / "scenarios" / "provincial_guideline.toml")
    sc = build_grouped_scenario(TRUTH, base, year, size=sum(SIZE.values()))
    acc = accumulate(sc, years=1, seed=year, floor=EDGES[0], progress=False)
    x = acc.rows.by_location.sum(axis=1)
    scheme = np.array(["urban", "ncms", "merged"])[acc.rows.group // 2]
    return {s: x[scheme == s] for s in SIZE}


def main() -> None:
    out_b, out_e = HERE / "grouped_bands.csv", HERE / "grouped_enrolment.csv"
    if out_b.exists() or out_e.exists():
        sys.exit(f"{out_b} or {out_e} exists; delete them first to regenerate")
    rows, enrol = [], []
    for year in YEARS:
        xs = accumulations(year)
        for s, x in xs.items():
            for lo, hi in zip(EDGES[:-1], EDGES[1:]):
                sel = (x >= lo) & (x < hi)
                rows.append({"year": year, "scheme": s, "band_low": lo, "band_high": "" if np.isinf(hi) else hi,
                             "people": int(sel.sum()), "amount": round(float(x[sel].sum()), 2)})
            # the engine draws each person's scheme: the enrolment is the drawn count, not SIZE
    for year in YEARS:
        base = load_scenario(HERE.parents[1] / "scenarios" / "provincial_guideline.toml")
        sc = build_grouped_scenario(TRUTH, base, year, size=sum(SIZE.values()))
        acc = accumulate(sc, years=1, seed=year, floor=EDGES[-2], progress=False)
        people = acc.agg[0, :, :, 0].sum(axis=0)
        for k, s in enumerate(("urban", "ncms", "merged")):
            if s in SIZE:
                enrol.append({"year": year, "scheme": s, "insured": int(people[2 * k] + people[2 * k + 1])})
    pd.DataFrame(rows).to_csv(out_b, index=False)
    pd.DataFrame(enrol).to_csv(out_e, index=False)
    print(f"wrote {out_b} and {out_e}")


if __name__ == "__main__":
    main()
