"""Catastrophic health expenditure of households against income (家庭灾难性卫生支出), after each layer.

Owns the household synthesis and the household counts of a ``[households]`` section
(:class:`~actuarial.scenario.rules.Households`). The engines simulate independent persons and keep rows
only above the CII floor, while a household's threshold (a share of its income or capacity to pay) is
often a few thousand yuan, well below it. So this module makes its own pass over *every* person of
every block and simulated year, with the brute engine's draws (the same keyed streams:
:func:`person_outcomes` reproduces the brute engine's per-person totals, which a test checks), and then:

1. **synthesises households** per block (:func:`synthesise`): the block's people, shuffled by their
   own stream, are cut into households whose sizes are drawn from the census size distribution; each
   household gets a per-capita disposable income, lognormal with the mean of its head's scheme series
   (:mod:`actuarial.config.income`) and log-sd ``income_sigma``. Households keep their members and income in
   every simulated year, as people do. Ages are not matched within households (members are a random
   draw of the insured), a stated simplification: since the claims model has no household-level
   frailty, members' costs are independent either way;
2. **counts** households whose out-of-pocket (total, or compliant only) exceeds ``threshold_percent`` of
   the basis — income, or capacity to pay = income − subsistence × size (a household at or below
   subsistence is catastrophic with any out-of-pocket) — after basic insurance (before CII), after CII,
   and after medical assistance.

Hand-worked example: a household of 3 with per-capita income 20,000 and subsistence 6,000 has capacity
to pay 3 × 14,000 = 42,000; at 40 % the threshold is 16,800 yuan. Out-of-pocket 30,000 after basic is
catastrophic; CII paying 14,000 brings it to 16,000, below the threshold: one household avoided.

>>> threshold(np.array([20_000.0]), np.array([3]), basis="capacity_to_pay", percent=40, subsistence=6_000).tolist()
[16800.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import cii as ciimod
from ..model import rng as rngmod
from ..model.assistance import assistance_benefit
from ..engines.engine import person_year  # the engine's own pass: the accumulation rule has one home
from ..config.income import per_capita_income
from ..model.population import population_block
from ..estimates import Estimate, ratio_estimate
from ..scenario.rules import SCHEME_SERIES, Households
from ..scenario import SCHEMES

LAYERS = ("before_cii", "after_cii", "after_assistance")


@dataclass(frozen=True)
class PersonYear:
    """Per person of one block in one simulated year, yuan: out-of-pocket after basic (total and compliant),
    CII paid and medical assistance paid."""

    oop_total: np.ndarray
    oop_compliant: np.ndarray
    cii: np.ndarray
    assistance: np.ndarray


def person_outcomes(scenario, seed: int, block: int, year: int, contract_year: int = 0, people=None) -> PersonYear:
    """Every person's outcome in simulated ``year`` of ``block``, with the brute engine's draws
    (:func:`actuarial.engines.engine.simulate_block` keeps only rows; this keeps everyone)."""
    people = population_block(scenario.population, seed, block) if people is None else people
    cii = scenario.cii
    py = person_year(scenario, people, seed, year, block, contract_year)
    pay = ciimod.benefit(cii, py.by_location, people.poor, ciimod.claims_eligible_factor(cii, scenario.claims))
    ma = scenario.medical_assistance
    assisted = np.zeros(len(people)) if ma is None else assistance_benefit(ma, py.oop_compliant - pay, people.poor)
    return PersonYear(py.oop_total, py.oop_compliant, pay, assisted)


@dataclass(frozen=True)
class HouseholdBlock:
    """The households of one block: each person's household, and per household its size, scheme series
    (index into ``SERIES``) and per-capita disposable income (yuan per person-year)."""

    member_of: np.ndarray
    size: np.ndarray
    series: np.ndarray
    income: np.ndarray


SERIES = ("urban", "rural", "residents")


def synthesise(spec: Households, people, seed: int, block: int) -> HouseholdBlock:
    """Households of one block's ``people`` (a pure function of the seed and the block)."""
    g = rngmod.generator_for("households", seed, block)
    n = len(people)
    p = np.asarray(spec.size_shares_percent, float)
    p /= p.sum()
    sizes = np.arange(1, p.size + 1)
    draws = g.choice(sizes, size=int(n / (p @ sizes) * 1.2) + 20, p=p)
    while draws.sum() < n:  # very unlikely: draw more
        draws = np.concatenate([draws, g.choice(sizes, size=draws.size, p=p)])
    ends = np.cumsum(draws)
    count = int(np.searchsorted(ends, n)) + 1
    size = draws[:count].copy()
    size[-1] -= ends[count - 1] - n  # the block's last household takes the people left
    order = g.permutation(n)
    member_of = np.empty(n, np.int64)
    member_of[order] = np.repeat(np.arange(count), size)
    head = order[np.concatenate([[0], np.cumsum(size)[:-1]])]
    if spec.income_series == "scheme":
        series = np.array([SERIES.index(SCHEME_SERIES[s]) for s in SCHEMES])[people.scheme[head]]
    else:
        series = np.full(count, SERIES.index(spec.income_series))
    means = np.array([_mean_income(s, spec.income_year) for s in SERIES])
    sigma = spec.income_sigma
    income = means[series] * np.exp(sigma * g.standard_normal(count) - sigma**2 / 2)
    return HouseholdBlock(member_of, size, series, income)


def _mean_income(series: str, year: int) -> float:
    try:
        return per_capita_income(series, year)
    except ValueError:
        return np.nan  # a series without that year (residents before 2013): an error only if used


def threshold(income, size, *, basis: str, percent: float, subsistence: float) -> np.ndarray:
    """Out-of-pocket above which a household's spending is catastrophic, yuan per household-year."""
    per_capita = np.asarray(income, float) - (subsistence if basis == "capacity_to_pay" else 0.0)
    return percent / 100 * np.maximum(per_capita, 0.0) * np.asarray(size)


@dataclass(frozen=True)
class HouseholdResult:
    """Household counts per (simulated year, block), and the synthesis' own figures for checking it."""

    households: np.ndarray  # (years, blocks)
    catastrophic: dict  # layer -> (years, blocks) counts
    size_counts: np.ndarray  # households by size, all blocks
    income_sum: np.ndarray  # per series: Σ per-capita income of households
    income_sq: np.ndarray
    income_n: np.ndarray
    by_year: bool = False  # systemic shocks: whole simulated years are the replicates

    def rate(self, layer: str) -> Estimate:
        """Catastrophic households per 10,000 households in a year, with its SE ((year, block) cells as units;
        whole years when systemic shocks tie a year's blocks together)."""
        num, den = self.catastrophic[layer], self.households
        if self.by_year:
            num, den = num.sum(axis=1), den.sum(axis=1)
        return ratio_estimate(num, den).scaled(1e4)

    def to_dict(self) -> dict:
        """JSON keys ``households_catastrophic_per_10k_<layer>`` and the synthesis checks."""
        out = {f"households_catastrophic_per_10k_{layer}": self.rate(layer).to_dict() for layer in LAYERS}
        out["households"] = int(self.households[0].sum())
        out["household_mean_size"] = float(self.size_counts @ np.arange(1, self.size_counts.size + 1)
                                           / self.size_counts.sum())
        out["household_income_per_capita_mean"] = {
            SERIES[i]: float(self.income_sum[i] / self.income_n[i]) for i in range(len(SERIES)) if self.income_n[i]}
        return out


def catastrophic(scenario, years: int, seed: int, contract_year: int = 0, progress: bool | None = None) -> HouseholdResult:
    """Simulate every person of every block for ``years`` years and count catastrophic households after each layer.

    >>> from actuarial import load_scenario
    >>> sc = load_scenario("scenarios/national_2019_residents.toml").replace(**{"population.size": 5000})
    >>> res = catastrophic(sc, years=2, seed=1)
    >>> r = [res.rate(layer).value for layer in LAYERS]     # per 10,000 households
    >>> r[0] >= r[1] >= r[2]
    True
    """
    from tqdm import tqdm

    spec = scenario.households
    nb = rngmod.n_blocks(scenario.population.size)
    households = np.zeros((years, nb))
    counts = {layer: np.zeros((years, nb)) for layer in LAYERS}
    size_counts = np.zeros(len(spec.size_shares_percent))
    income_sum, income_sq, income_n = np.zeros(3), np.zeros(3), np.zeros(3)
    show = progress if progress is not None else scenario.population.size * years > 1_000_000
    with tqdm(total=nb * years, disable=not show, desc="households", unit="block-yr") as bar:
        for b in range(nb):
            people = population_block(scenario.population, seed, b)
            hh = synthesise(spec, people, seed, b)
            if np.isnan(hh.income).any():
                raise ValueError(f"households.income_year: no {SERIES[int(hh.series[np.isnan(hh.income)][0])]} "
                                 f"income for {spec.income_year} (the residents' series starts in 2013)")
            size_counts += np.bincount(hh.size - 1, minlength=size_counts.size)[: size_counts.size]
            income_sum += np.bincount(hh.series, weights=hh.income, minlength=3)
            income_sq += np.bincount(hh.series, weights=hh.income**2, minlength=3)
            income_n += np.bincount(hh.series, minlength=3)
            limit = threshold(hh.income, hh.size, basis=spec.basis, percent=spec.threshold_percent,
                              subsistence=spec.subsistence_per_capita)
            for y in range(years):
                out = person_outcomes(scenario, seed, b, y, contract_year, people)
                base = out.oop_total if spec.out_of_pocket == "total" else out.oop_compliant
                spent = base
                households[y, b] = hh.size.size
                for layer, paid in zip(LAYERS, (0.0, out.cii, out.assistance)):
                    spent = spent - paid
                    per_hh = np.bincount(hh.member_of, weights=spent, minlength=hh.size.size)
                    counts[layer][y, b] = np.count_nonzero(per_hh > limit + 1e-9)
                bar.update(1)
    return HouseholdResult(households, counts, size_counts, income_sum, income_sq, income_n,
                           scenario.claims.shocks.enabled)
