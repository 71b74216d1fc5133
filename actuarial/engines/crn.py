"""Common random numbers (公共随机数): which designs can be priced on one heavy pass, and on which engine.

The heavy pass (:func:`actuarial.engines.engine.accumulate`) reads only a few CII fields
(:data:`HEAVY_CII_FIELDS`); every other part of the design (deductibles, tiers, caps, poverty
terms, funding, fee rate) is applied to its rows afterwards. So designs of one scenario and
seed that agree on those fields share one pass, with its floor at the lowest deductible among
them: the one grouping rule that comparisons of bids, sweeps and multi-year contracts use.

>>> from actuarial import load_scenario
>>> sc = load_scenario("scenarios/qinzhou_2016.toml")
>>> designs = [sc, sc.replace(**{"cii.deductible": 5000}), sc.replace(**{"cii.scope": ["cancer"]})]
>>> [(g.members, g.floor) for g in group_designs(designs)]   # the poor's 3,000 is the lowest deductible
[([0, 1], 3000.0), ([2], 3000.0)]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

from ..model.cii import min_deductible

HEAVY_CII_FIELDS = ("scope", "includes_basic_deductible", "catastrophic_threshold", "category_bc_base",
                    "category_b_self_pay_percent", "category_c_self_pay_percent")
"""CII fields the heavy pass itself reads (which episodes count, what the accumulation includes, the
B/C self-pay taken from each episode's item cost, the catastrophic count); the rest of the CII design
is applied to the rows afterwards."""


def heavy_cii(cii) -> dict:
    """The heavy-pass fields of a CII design (two designs can share one pass iff these are equal)."""
    return {f: getattr(cii, f) for f in HEAVY_CII_FIELDS}


def heavy_differences(cii, other) -> list[str]:
    """The heavy-pass fields in which two CII designs differ (empty: they can share a pass)."""
    return sorted(f for f in HEAVY_CII_FIELDS if getattr(cii, f) != getattr(other, f))


def heavy_key(scenario, seed: int | None = None) -> str:
    """A key equal for two (scenario, seed) iff they can share one heavy pass: everything but the
    design, funding and contract, plus the heavy-pass CII fields and the seed."""
    rest = scenario.model_dump(mode="python", exclude={"cii", "funding", "contract"})
    return json.dumps([seed, rest, heavy_cii(scenario.cii)], sort_keys=True, default=str)


@dataclass(frozen=True)
class DesignGroup:
    """Indices of designs that share one heavy pass, and the pass's floor (yuan): their lowest deductible."""

    members: list[int]
    floor: float


def group_designs(scenarios: Sequence, seeds: Sequence[int] | None = None, own_floor: bool = False) -> list[DesignGroup]:
    """Group ``scenarios`` (with their ``seeds``, default one seed for all) by heavy pass, in order of
    first appearance; one pass each, with the floor at the lowest deductible of its members.

    ``own_floor``: designs share a pass only if they also share their lowest deductible, so each is
    priced on a pass floored at its own deductible and its figures equal ``simulate(design)`` with
    the same seed, whatever it is grouped with (the floor sets the control variate's grid, and the
    fast engine's sampler)."""
    groups: dict[str, list[int]] = {}
    for i, sc in enumerate(scenarios):
        key = heavy_key(sc, None if seeds is None else seeds[i])
        if own_floor:
            key += repr(min_deductible(sc.cii))
        groups.setdefault(key, []).append(i)
    return [DesignGroup(m, min(min_deductible(scenarios[i].cii) for i in m)) for m in groups.values()]


def paired_engine(engine: str, passes: int) -> str:
    """The engine for ``passes`` heavy passes whose differences must stay paired: "auto" becomes
    "brute" when there is more than one pass (the fast engine's draws depend on the heavy-pass
    fields, the brute engine's do not), else stays as asked."""
    return "brute" if engine == "auto" and passes > 1 else engine
