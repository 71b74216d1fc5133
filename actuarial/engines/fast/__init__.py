"""A fast engine: simulate in full only the people whose accumulation reaches the floor (快速引擎).

Most insured never reach the CII deductible. Per homogeneous risk cell (one
utilisation age band, sex, scheme and region) this engine computes, from the
exact grid distributions of :mod:`actuarial.exact.compound`, how likely a person is to
reach the accumulation floor, draws how many people of the cell are
*candidates*, and simulates every episode only for them. The output is an
:class:`actuarial.engines.accumulations.Accumulations`, so :func:`actuarial.results.simulation.evaluate`
works unchanged; select it with ``accumulate(..., engine="fast")`` or
``simulate(..., engine="fast")``.

Sampling — exact, the grid only proposes
----------------------------------------
Let *Y* be an episode's contribution to the accumulation (before the basic
annual cap) and ``u = min(ceil(Y / h), F)`` its grid units *rounded up*, with
``F = floor / h``. Then ``A ≥ floor`` implies ``Σu ≥ F``: the rounded event is a
superset. For the vector of in-scope stream counts *n* the probability
``T(n) = P(Σu ≥ F | n)`` is computed exactly on the grid (truncated n-fold
convolutions; everything at or above *F* is one lump, so nothing wraps).

* Streams where ``P(N > 0)`` is not small are *enumerated* up to a count
  ``m_k`` (set *E*); count vectors in *E* are proposed with probability
  ``∝ P(n)·T(n)``, and their episodes are drawn from their exact law given
  ``Σu ≥ F`` sequentially: each episode's units given those before, weighted by the
  tail of the later episodes' truncated convolution, then (level, cost) inside
  that grid cell by the severity's inverse survival function — no rejection.
* Every other count vector (a rare stream with a positive count, or a count above
  ``m_k``; set *R*) is drawn from its exact unconditional law restricted to *R*
  (by the first stream that leaves *E*), with unconditioned episodes.
* In a cell of ``n`` people the number of *E*- and *R*-candidates is multinomial
  with probabilities ``Z_E = Σ_E P(n)T(n)`` and ``Z_R = P(R)``; a candidate is kept
  when its exact accumulation reaches the floor.

Kept people are then exactly a Binomial(n, P(A ≥ floor)) thinning of the cell
with the exact conditional law of their episodes (levels, costs, locations):
the grid changes how many candidates are drawn, never what is kept. Streams
outside ``cii.scope`` are drawn unconditionally for the kept people (they enter
the basic annual cap and the out-of-pocket totals).

Shocks: each simulated year's multipliers (:func:`actuarial.model.claims.year_factors`)
rescale counts and costs. Count laws are the year's own; the proposal (unit pmfs,
T(n)) is tabulated at the next point ``s' ≥ s`` of a log grid of severities (2 %
apart, :func:`table_severity`), so years share tables, and conditioned costs are
multiplied by ``s/s' ≤ 1`` afterwards. That is exact: the episodes are drawn from
their law at ``s'`` given the rounded event, scaling them down gives the law at
``s``, and scaling down only lowers accumulations, so the event still contains
every person-year that reaches the floor (the accept step on exact sums does the rest).

Layout of the work: candidates of every cell (and every year of a unit of work)
with the same table cost scale go through one vectorised sequential sampler — one
numpy step per episode index. At the first episode everyone misses all *F* units, so
one weight row per distinct (stream, later episodes) serves all; at later episodes each
person's units are drawn by rejection (propose from the unit pmf, accept with the
later episodes' tail probability — exact), and the few still rejected after
REJECTION_ROUNDS get weight rows. A person leaves the sampler once the floor is
reached, and the later episodes are drawn unconditioned in one go.

Totals per (year, block, group) (``agg``): people and premium are counted
exactly; episodes, cost, compliant cost and basic paid are the people count
times their exact expectation per person-year (closed-form limited expectations),
so they carry no process noise, only the variation of each block's drawn population
(:mod:`actuarial.results.simulation` then takes blocks, not years, as their replicates:
``Accumulations.exact_totals``); the part of basic paid the annual cap cuts off
is added from the kept people; ``catastrophic_before`` is the people count times
``P(total out-of-pocket > threshold)`` from the exact grid distribution (step
threshold/250). Figures built on the rows (CII claims, beneficiaries, ...) keep
their full Monte Carlo error, so their standard errors are honest.

Rows also carry the rounded-down units of the claims control variate (:mod:`actuarial.exact.control`),
which without shocks makes expected claims 10-150× less variable on the same draws.

Speed (provincial guideline, one core of a shared 2-core machine; see benchmarks/README.md):
about 90-140 million person-years/s without shocks against 4-5 million for the brute engine
and the plain-numpy baseline, with the same standard error per person-year for the CII
figures (the kept people are an exact sample): about 20-30× at equal CI width; the non-CII
totals carry no process noise. With shocks (10 % s.d.) about 17-21 million
person-years/s at 10^6 insured and 50 million at 10^7 (per-year tables and draws are fixed
cost). What is left is numpy work per candidate (≈ 1.5 µs, ≈ 3.3 episodes each), about 1.1
candidates per person-year kept.

Assumptions (documented limits): selection uses the accumulation before the
basic annual cap, and the cap's cut for people not kept is not counted; both
matter only when the cap binds below the floor (e.g. a disease-list scope and
huge out-of-scope costs). The population is drawn as multinomial cell counts per
block, not person by person, so the fast and brute engines use different random
numbers (same distribution). With ``floor = 0`` (no deductible, e.g. Shanghai) every
person with an in-scope episode is simulated, which is still cheap for disease-list schemes.

>>> from actuarial import load_scenario, simulate
>>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 200_000})
>>> res = simulate(sc, years=2, seed=1, engine="fast")
>>> bool(res.claims_per_capita().se > 0)
True
"""

from __future__ import annotations

# The engine in three stages, one module each: tables (what is tabulated per risk cell), sampler
# (conditioned episodes), stages (a unit of simulated years, and the driver).
from .sampler import draw_conditioned, draw_episodes, toward_cii  # noqa: F401
from .stages import accumulate_fast, simulate_years  # noqa: F401
from .tables import (CellTables, build_tables, catastrophic_probabilities, draw_outside,  # noqa: F401
                     expected_per_person, limited_mean, table_severity)
