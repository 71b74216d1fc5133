"""Drawing people: every sampler gives the population's composition (shares within binomial error)."""

import numpy as np
import pytest

from actuarial import generate_population
from actuarial.config import tables
from actuarial.engines.gpu import _population
from actuarial.model.population import composition, group_index
from actuarial.scenario import SCHEMES

N = 200_000


def within(count, n, p, k=4.0):
    """A binomial count within k standard errors of n·p."""
    return abs(count - n * p) <= k * np.sqrt(n * p * (1 - p)) + 1e-9


def draws(sc, sampler):
    if sampler == "cpu":
        pop = generate_population(sc, size=N, seed=3)
        return pop.age, pop.female, pop.scheme, pop.poor, pop.region
    people = _population(np, sc.replace(**{"population.size": N}), 3, range(-(-N // 65_536)))
    # the GPU sampler keeps the group (2·scheme + poor), not the age; its band is the age's band
    scheme, poor = people["group"] // 2, people["group"] % 2 == 1
    return None, people["female"], scheme, poor, people["region"]


@pytest.mark.parametrize("sampler", ["cpu", "gpu"])
def test_population_shares(sampler, provincial):
    sc = provincial.replace(**{"population.regions": [{"name": "a", "share": 0.7},
                                                      {"name": "b", "share": 0.3, "cost_factor": 1.2}]})
    comp = composition(sc.population)
    age, female, scheme, poor, region = draws(sc, sampler)
    assert within(female.sum(), N, comp.female)
    p_scheme = comp.scheme / comp.scheme.sum()
    for s in range(len(SCHEMES)):
        assert within((scheme == s).sum(), N, p_scheme[s])
        if p_scheme[s] > 0:  # poverty rate within the scheme
            assert within((poor & (scheme == s)).sum(), int((scheme == s).sum()), comp.poor[s])
    p_region = comp.region / comp.region.sum()
    for r in range(len(p_region)):
        assert within((region == r).sum(), N, p_region[r])
    if age is not None:
        p_age = comp.age / comp.age.sum()
        band5 = np.searchsorted(tables.AGE_BAND_STARTS, age, side="right") - 1
        for b in range(len(p_age)):
            assert within((band5 == b).sum(), N, p_age[b])


def test_group_index_by_hand():
    assert group_index(0, False) == 0 and group_index(2, True) == 5
    assert list(group_index(np.array([1, 1]), np.array([False, True]))) == [2, 3]
