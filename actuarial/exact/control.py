"""A control variate for the expected CII claims (控制变量): the same precision from far fewer years.

The CII benefit *Y* of a person-year is a function of an accumulation whose
distribution per risk cell is known exactly on a grid (:mod:`actuarial.exact.compound`).
Take as a companion the benefit of a simpler accumulation with a known mean:

    X = benefit of the local schedule (no 异地就医 rule) on ``h · min(S, TOP)``,
    S = Σ over in-scope episodes of ``floor(amount_i / h)``,

with the amounts before the basic annual cap and the grid step ``h`` yuan.
``E[X]`` per person-year of a risk cell is exact: each episode's rounded-down
amount has a closed-form pmf, the annual sum is a compound distribution computed
by FFT, and everything at or above ``TOP`` is one lump (``min(S, TOP)``), so
no tail is cut. Every engine (brute, fast, GPU) records ``min(S, TOP)`` for every
row it keeps (X is 0 below the floor, so rows cover every nonzero X), and the people
drawn per population cell and block. Then

    Σ (Y − X) over the simulated rows  +  Σ over cells (people × E[X])

is an unbiased estimate of the total claims for any grid. Y and X differ only by
the rounding (< h per episode), the basic annual cap, location rules and
accumulations beyond ``h · TOP``, so the remaining variance is tens to thousands of
times smaller than Y's (measured in ``benchmarks/README.md``). The grid is set
so that ``h · TOP`` reaches 400 times the floor and the accumulation at which the
design's cap binds.

Only means use it (claims per capita, break-even premium, loss ratio, and the
inverse solvers built on them; likewise beneficiaries per insured with the
companion count of X > 0); each simulated year's own claims, and therefore
percentile premiums, settlement and every probability, are the raw draws.
Standard errors: the Monte Carlo part from the independent (year, block) units
of Σ(Y − X), plus the error from the synthetic population's composition (the
multinomial cell counts), from the exact per-cell E[X]. With systemic shocks
each year has its own E[X | shock], so the control is not used (None).

>>> from actuarial import load_scenario, simulate
>>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 200_000,
...                                                                    "basic.annual_cap": 1e9})  # X is before the cap
>>> res = simulate(sc, years=2, seed=1, engine="fast")
>>> raw = res.ratio("claims", "people", controlled=False)
>>> bool(res.claims_per_capita().se < raw.se / 5)      # same draws, far tighter
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..model import cii as ciimod
from ..model.claims import YearFactors
from .compound import compound_cells, episode_pmf
from ..model.cells import RiskCell
from ..model.population import group_index
from ..scenario import CII, LOCATIONS, SCHEMES, Scenario

TOP = 8191
"""Grid points of the rounded-down accumulation below the lump (``min(S, TOP)``)."""
NO_CAP_REACH = 400
"""Without a CII cap the grid reaches this many times the floor (at least 1,000 yuan)."""
SIZE = 2 * (TOP + 1)
"""FFT length: twice the grid, so annual sums beyond it are rare and damped before they wrap."""


def control_step(cii: CII, factor: float, floor: float) -> float:
    """Grid step h (yuan) so that ``h · TOP`` reaches ``NO_CAP_REACH`` floors and the accumulation
    at which everyone's local benefit hits the cap (before the B/C ``factor``).

    Beyond the reach X stops growing while the benefit may not; the generous reach keeps X close
    to Y for other designs priced on the same draws (the solvers' and sweeps' deductibles and caps).
    """
    reach = NO_CAP_REACH * max(floor, 1000.0)
    local = cii.model_copy(update={"locations": {}})

    def pays_cap(x: float) -> bool:  # both groups (not poor, poor) paid the cap at accumulation x
        acc = np.zeros((2, len(LOCATIONS)))
        acc[:, 0] = x
        return bool(np.all(ciimod.benefit(local, acc, np.array([False, True]), factor) >= cii.cap))

    lo, hi = 0.0, 1e10
    if math.isfinite(cii.cap) and factor > 0 and pays_cap(hi):  # else a zero last rate never reaches it
        for _ in range(60):  # bisect for the smallest accumulation that pays the cap
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if pays_cap(mid) else (mid, hi)
        reach = max(reach, hi)
    return reach / TOP


def grid_step(scenario: Scenario, floor: float) -> float | None:
    """The control's grid step for a heavy pass of ``scenario`` keeping rows from ``floor`` (yuan), or
    None when the scenario has systemic shocks (E[X] would change every simulated year)."""
    if scenario.claims.shocks.enabled:
        return None
    return control_step(scenario.cii, ciimod.claims_eligible_factor(scenario.cii, scenario.claims), floor)


def episode_units(amount: np.ndarray, step: float, xp=np) -> np.ndarray:
    """Each episode's amount rounded down to whole grid steps, at most TOP (float, integral values; any xp)."""
    return xp.minimum(xp.floor(xp.maximum(amount, 0.0) / step), TOP)


def row_units(person: np.ndarray, amount: np.ndarray, step: float, n_people: int, rows: np.ndarray) -> np.ndarray:
    """min(S, TOP) (int32) of the people ``rows``, S summed over the in-scope episodes given by their
    owner ``person`` and ``amount`` (yuan, before the basic annual cap)."""
    units = np.bincount(person, weights=episode_units(amount, step), minlength=n_people)
    return np.minimum(units[rows], TOP).astype(np.int32)


def cell_pmfs(scenario: Scenario, cells: list[RiskCell], factors: YearFactors, step: float) -> np.ndarray:
    """(len(cells), TOP + 1): P(min(S, TOP) = k) per person-year of each risk cell (exact; FFT).

    Per region and in-scope stream one episode pmf (rounded down, lumped at TOP), compounded by
    :func:`actuarial.exact.compound.compound_cells`; tilting by θ = 15 / SIZE damps any mass beyond SIZE by
    e^(−15) before it wraps around (annual sums that large only make the lump).
    """
    streams = [st for st in scenario.claims.streams if scenario.cii.covers(st.disease)]
    # Only k ≤ TOP is read (the rest is the lump), where undoing the tilt amplifies rounding by ≤ e^7.5.
    pmf = compound_cells(scenario, cells, factors, streams,
                         lambda stream, scale: episode_pmf(scenario, stream, scale, step, TOP + 1, rounding="down"),
                         SIZE, 15.0 / SIZE, TOP + 1)
    below = pmf[:, :TOP].sum(axis=1)
    if not np.all(below <= 1 + 1e-9):
        raise RuntimeError(f"control-variate distribution is not a distribution (mass {below.max():.12f} below the lump)")
    pmf[:, TOP] = np.maximum(1.0 - below, 0.0)
    return pmf


def person_cells(cells: list, band, female, scheme, poor, region) -> np.ndarray:
    """Index into ``cells`` (:func:`actuarial.model.cells.population_cells`) of each person, from their
    utilisation band, sex, scheme, poverty and region (numpy arrays)."""
    shape = (max(c.band for _, c, _ in cells) + 1, 2, len(SCHEMES), 2, max(c.region for _, c, _ in cells) + 1)
    lookup = np.full(shape, -1)
    for i, (_, c, is_poor) in enumerate(cells):
        lookup[c.band, int(c.female), c.scheme, int(is_poor), c.region] = i
    return lookup[band, np.asarray(female, int), scheme, np.asarray(poor, int), region]


@dataclass(frozen=True)
class Control:
    """What the control variate needs after the heavy pass (see the module docstring)."""

    step: float  # grid step h, yuan
    pmf: np.ndarray  # (risk cells, TOP + 1): P(min(S, TOP) = k)
    cell_pmf: np.ndarray  # per population cell: its row of ``pmf``
    cell_group: np.ndarray  # per population cell: reporting group (2·scheme + poor)
    cell_prob: np.ndarray  # per population cell: probability of a person being in it
    counts: np.ndarray  # (blocks, population cells): people drawn

    @staticmethod
    def build(scenario: Scenario, cells: list, counts: np.ndarray, factors: YearFactors, step: float) -> "Control":
        """From the population cells ``(prob, RiskCell, poor)`` and their drawn ``counts`` per block."""
        risk = sorted({c for _, c, _ in cells}, key=lambda c: (c.band, c.female, c.scheme, c.region))
        index = {c: i for i, c in enumerate(risk)}
        prob = np.array([w for w, _, _ in cells])
        return Control(step, cell_pmfs(scenario, risk, factors, step),
                       np.array([index[c] for _, c, _ in cells]),
                       np.array([group_index(c.scheme, int(poor)) for _, c, poor in cells]), prob / prob.sum(),
                       np.asarray(counts, float))

    def values(self, cii: CII, factor: float, units: np.ndarray, poor: np.ndarray) -> np.ndarray:
        """X per person-year with ``units`` = min(S, TOP) (yuan)."""
        x = np.zeros((units.size, len(LOCATIONS)))
        x[:, 0] = self.step * np.asarray(units, float)
        return ciimod.benefit(cii.model_copy(update={"locations": {}}), x, np.asarray(poor, bool), factor)

    def expected(self, cii: CII, factor: float) -> tuple[np.ndarray, np.ndarray]:
        """E[X] (yuan) and P(X > 0) per person-year of each population cell."""
        grid = np.arange(TOP + 1)
        by_poor = np.stack([self.values(cii, factor, grid, np.full(grid.size, poor)) for poor in (False, True)])
        poor = self.cell_group % 2
        mean = (self.pmf @ by_poor.T)[self.cell_pmf, poor]  # (risk cells, [not poor, poor]) → population cells
        paid = (self.pmf @ (by_poor > 0).T.astype(float))[self.cell_pmf, poor]
        return mean, paid
