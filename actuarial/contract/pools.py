"""Several pooling units (统筹单位) under one contract: each settled on its own, the results summed.

Daqing's three NCMS units (shared/seeds/001 l.887-889: "大同区、林甸县及杜尔伯特县新农合为一个统筹单位,
肇州县及肇源县…, 龙凤区、让胡路区及红岗区…") buy CII under one tender and one set of terms, but each
unit's fund settles with the insurer separately: a surplus in one unit is not netted against a loss
in another. With ``contract.pools = "by_region"`` each region of ``population.regions`` is one unit.

This module owns the split of a scenario into its pools and the pooled settlement; the settlement
rule of one pool is :func:`actuarial.contract.settlement.settle`. Money is conserved in every pool and every
simulated year (each pool's :class:`~actuarial.contract.settlement.Settlement` checks it), hence in the total.

>>> import numpy as np
>>> from actuarial.scenario import Contract
>>> c = Contract(combined_fee_rate_percent=4, surplus_cap_percent=4)
>>> s = settle_pools(c, [np.array([100.0]), np.array([100.0])], [np.array([90.0]), np.array([110.0])])
>>> float(s.total.insurer_result[0]), float(s.total.returned_surplus[0])  # keeps 4 in one, bears 10 in the other
(-6.0, 6.0)
>>> float(settle(c, 200.0, 200.0).insurer_result[0])                      # pooled, the two would cancel
0.0
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np
import pandas as pd

from ..model import rng as rngmod
from ..results.simulation import simulate
from ..scenario import Contract, Scenario
from .settlement import Settlement, settle


def pool_sizes(size: int, shares: Sequence[float]) -> list[int]:
    """Insured persons per pool: ``size`` split by ``shares`` (largest remainders, so they sum to ``size``)."""
    raw = np.asarray(shares, float) / sum(shares) * size
    out = np.floor(raw).astype(int)
    out[np.argsort(raw - out)[::-1][: size - out.sum()]] += 1
    return [int(n) for n in out]


def pool_scenarios(scenario: Scenario) -> list[tuple[str, Scenario]]:
    """(name, scenario) per pooling unit: the scenario itself when ``contract.pools = "one"``, else one
    scenario per region, with that region alone and its share of the insured."""
    if scenario.contract.pools == "one":
        return [(scenario.programme.name, scenario)]
    regions = scenario.population.regions
    out = []
    for region, n in zip(regions, pool_sizes(scenario.population.size, [r.share for r in regions])):
        if n == 0:
            continue
        one = [{"name": region.name, "share": 1.0, "cost_factor": region.cost_factor}]
        out.append((region.name, scenario.replace(**{"population.size": n, "population.regions": one,
                                                      "contract.pools": "one"})))
    return out


def pool_seed(seed: int, name: str) -> int:
    """The seed of pool ``name`` under ``seed`` (independent pools; the same for the same arguments)."""
    return int(rngmod.seed_for("pools", seed, rngmod.stream_id(name)).generate_state(1)[0])


@dataclass(frozen=True)
class PooledSettlement:
    """One contract's pools settled separately (per simulated year); ``total`` is their sum, yuan."""

    names: tuple[str, ...]
    pools: tuple[Settlement, ...]

    @property
    def total(self) -> Settlement:
        """Every settlement term summed over the pools (each term is additive), yuan per year."""
        return Settlement(*(sum(getattr(p, f.name) for p in self.pools) for f in fields(Settlement)))

    def check_conservation(self) -> None:
        """premium = claims + insurer result + returned to fund − fund's loss share, to the cent, in every
        pool and in the total (AssertionError otherwise)."""
        for p in self.pools:
            p.check_conservation()
        self.total.check_conservation()

    def frame(self) -> pd.DataFrame:
        """One row per (pool, simulated year) with every term, then the total's rows (pool = "total")."""
        parts = [p.frame().assign(pool=n) for n, p in zip(self.names, self.pools)]
        parts.append(self.total.frame().assign(pool="total"))
        return pd.concat(parts, ignore_index=True)


def settle_pools(contract: Contract, premiums: Sequence, claims: Sequence, names: Sequence[str] | None = None,
                 policy_extra_claims: Sequence | None = None, score=None) -> PooledSettlement:
    """Settle each pool with :func:`~actuarial.contract.settlement.settle` under the one ``contract``.

    ``premiums``, ``claims`` (and ``policy_extra_claims``): one array of yuan per simulated year for
    each pool, in the same order as ``names``.
    """
    if len(premiums) != len(claims) or not premiums:
        raise ValueError(f"give premiums and claims for the same pools (got {len(premiums)} and {len(claims)})")
    names = tuple(names) if names is not None else tuple(f"pool {i + 1}" for i in range(len(premiums)))
    extra = policy_extra_claims if policy_extra_claims is not None else [0.0] * len(premiums)
    pools = tuple(settle(contract, p, c, e, score) for p, c, e in zip(premiums, claims, extra))
    out = PooledSettlement(names, pools)
    out.check_conservation()
    return out


def simulate_pools(scenario: Scenario, years: int = 20, seed: int = 0, **kwargs):
    """Simulate each pool of ``scenario`` (:func:`pool_scenarios`) with its own seed; returns
    [(name, SimulationResult)]. Keyword arguments go to :func:`actuarial.results.simulation.simulate`."""
    pools = pool_scenarios(scenario)
    if len(pools) == 1:
        return [(pools[0][0], simulate(scenario, years, seed, **kwargs))]
    return [(name, simulate(sc, years, pool_seed(seed, name), **kwargs)) for name, sc in pools]


def settle_scenario(scenario: Scenario, years: int = 20, seed: int = 0, **kwargs) -> PooledSettlement:
    """Simulate and settle ``scenario``'s contract year pool by pool (one pool unless ``contract.pools``
    says otherwise), yuan per simulated year.

    >>> from actuarial import load_scenario
    >>> sc = load_scenario("scenarios/daqing_2015_ncms.toml").replace(**{"population.size": 30_000})
    >>> s = settle_scenario(sc, years=2, seed=1, engine="fast")
    >>> s.names
    ('Datong_Lindian_Dorbod', 'Zhaozhou_Zhaoyuan', 'Longfeng_Ranghulu_Honggang')
    >>> float(s.total.premium[0])      # 20 yuan × 30,000 insured
    600000.0
    """
    results = simulate_pools(scenario, years, seed, **kwargs)
    return settle_pools(scenario.contract, [r.yearly("premium") for _, r in results],
                        [r.yearly("claims") for _, r in results], [n for n, _ in results])
