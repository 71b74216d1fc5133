"""The exact (FFT) accumulation distribution: hand-worked cases, then Monte Carlo against it."""

import math

import numpy as np
import pytest
from scipy import stats

from actuarial import simulate
from actuarial.config.distributions import LogNormal
from actuarial.exact.compound import amount_cdf, cell_distribution, compound, count_pmf, episode_pmf, episode_terms, expected_cii
from actuarial.model.cells import RiskCell, population_cells

from designs import DESIGNS, design

# --------------------------------------------------------------------------- by hand
def test_compound_poisson_two_point_severity_by_direct_sum():
    """Poisson(0.7) episodes of 1 or 3 grid units (prob 0.6 / 0.4): P(A = k) summed over counts by hand."""
    sev = np.array([0.0, 0.6, 0.0, 0.4])
    pmf = compound([(sev, 0.7, 0.0, 1.0)], 64)
    direct = np.zeros(128)
    for n in range(25):
        for ones in range(n + 1):  # ones episodes of 1, n − ones of 3
            direct[ones + 3 * (n - ones)] += (stats.poisson.pmf(n, 0.7) * stats.binom.pmf(ones, n, 0.6))
    assert pmf[:20] == pytest.approx(direct[:20], abs=1e-13)
    assert pmf[0] == pytest.approx(math.exp(-0.7))  # no episode
    assert pmf[1] == pytest.approx(0.7 * math.exp(-0.7) * 0.6)  # exactly one episode of 1


def test_prevalence_and_negative_binomial_count():
    """(1 − p) + p·G(z): P(A = 0) = 1 − p + p·P(N = 0); NB pmf from its pgf matches scipy."""
    sev = np.array([0.0, 1.0])
    pmf = compound([(sev, 2.0, 0.5, 0.3)], 256)  # each episode is one unit: A = N
    r = 1 / 0.5
    nb = stats.nbinom.pmf(np.arange(40), r, r / (r + 2.0))
    expected = 0.3 * nb
    expected[0] += 0.7
    assert pmf[:40] == pytest.approx(expected, abs=1e-12)
    assert count_pmf(2.0, 0.5, 0.3)[:40] == pytest.approx(expected, abs=1e-14)


def test_episode_amount_is_piecewise_linear_in_cost():
    """Tertiary inpatient: compliant 85 %, deductible 1000, coinsurance 60 % → amount = 0.4·(0.85·X − 1000)⁺."""
    sc = design(basic={"inpatient": {"tertiary": {"deductible": 1000, "coinsurance_percent": 60}}})
    terms = episode_terms(sc, sc.claims.streams[0], "tertiary")
    assert terms == pytest.approx((0.0, 1000 / 0.85, 0.85 * 0.4))
    sev = LogNormal(9000, 1.0)
    # amount ≤ 2000 ⟺ 0.34·X − 400 ≤ 2000 ⟺ X ≤ 2400/0.34
    assert amount_cdf(sev, 1.0, terms, [2000.0])[0] == pytest.approx(sev.cdf(2400 / 0.34))
    assert amount_cdf(sev, 1.0, terms, [0.0])[0] == pytest.approx(sev.cdf(1000 / 0.85))  # the atom at 0
    pmf = episode_pmf(sc, sc.claims.streams[0], 1.0, 10.0, 20_000)
    assert pmf.sum() == pytest.approx(1.0)
    # Nearest rounding keeps the mean to O(step²): E[amount] = 0.34·(E[X] − E[min(X, 1000/0.85)]).
    exact_mean = 0.34 * (sev.mean() - sev.limited_mean(1000 / 0.85))
    assert pmf @ (np.arange(pmf.size) * 10.0) == pytest.approx(exact_mean, rel=1e-4)


def test_cells_cover_the_population():
    sc = design(population={"female_share": 0.4, "poverty_rate_percent": {"merged": 10}})
    cells = population_cells(sc)
    assert sum(w for w, _, _ in cells) == pytest.approx(1.0)
    assert {c.female for _, c, _ in cells} == {False, True}
    assert len(cells) == 4  # 2 sexes × poor or not, one band, one scheme, one region


def test_distribution_mass_and_mean():
    sc = design()
    dist = cell_distribution(sc, RiskCell(5, False, 2, 0), step=10.0, n_points=20_000)
    assert dist.pmf.sum() == pytest.approx(1.0, abs=1e-9)
    # Poisson(1) episodes: E[A] = 1 · E[amount per episode].
    sev = LogNormal(9000, 1.0)
    per_episode = 0.85 * 0.4 * (sev.mean() - sev.limited_mean(1000 / 0.85))
    assert dist.mean() == pytest.approx(per_episode, rel=1e-3)


# --------------------------------------------------------------------------- Monte Carlo against exact
@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_monte_carlo_agrees_with_exact(name):
    sc = DESIGNS[name]
    exact = expected_cii(sc, step=10.0, n_points=1 << 16)  # the grid reaches 655,360 yuan per episode
    assert exact.truncated < 1e-5
    mc = simulate(sc, years=3, seed=7, progress=False)
    claims = mc.claims_per_capita()
    assert claims.se < 0.015 * claims.value  # tight enough that a 5 % error fails
    assert abs(claims.value - exact.claims_per_capita) < 3 * claims.se, (claims, exact)
    benef = mc.ratio("beneficiaries", "people")
    assert abs(benef.value - exact.beneficiaries_per_capita) < 3 * benef.se, (benef, exact)


def test_a_design_without_deductible_on_the_default_grid():
    """Shanghai's kind of design (paid from the first yuan, no cap): the default grid reaches the
    episode costs (it once took a 0.0025-yuan step and lost mass), and people without an in-scope
    episode are not beneficiaries (grid point 0 once counted half of everyone)."""
    sc = DESIGNS["disease_list_scope_regions"].replace(**{"cii.deductible": 0, "cii.includes_basic_deductible": True})
    exact = expected_cii(sc)
    mc = simulate(sc, years=3, seed=7, engine="brute", progress=False)
    # raw beneficiaries: the control variate's own grid counts the same people here, leaving an SE of 1e-12
    claims, benef = mc.claims_per_capita(), mc.ratio("beneficiaries", "people", controlled=False)
    assert abs(claims.value - exact.claims_per_capita) < 3 * claims.se, (claims, exact)
    assert abs(benef.value - exact.beneficiaries_per_capita) < 3 * benef.se, (benef, exact)
    assert exact.beneficiaries_per_capita < 0.5  # about 0.3 × 0.95 + 0.2 × 1: the cancer or dialysis patients


def test_grid_error_shrinks_with_the_step():
    sc = DESIGNS["nb_tiers_cap_with_basic_deductible"]
    values = [expected_cii(sc, step=h, n_points=int(400_000 / h)).claims_per_capita for h in (80.0, 40.0, 20.0)]
    assert abs(values[1] - values[2]) < abs(values[0] - values[2]) + 1e-9
    assert abs(values[0] - values[2]) < 1e-3 * values[2]


def test_exact_detects_a_five_percent_error():
    """The test above has teeth: a 5 % larger severity moves the exact answer well beyond 3 SE."""
    sc = DESIGNS["poisson_one_tier"]
    base = expected_cii(sc, step=15.0).claims_per_capita
    bumped = expected_cii(sc.replace(**{"claims.streams": [sc.claims.streams[0].model_copy(update={
        "severity": {"tertiary": sc.claims.streams[0].severity["tertiary"].model_copy(update={"mean": 9450})}})]}),
        step=15.0).claims_per_capita
    mc = simulate(sc, years=3, seed=7, progress=False).claims_per_capita()
    assert abs(bumped - base) > 4 * mc.se
