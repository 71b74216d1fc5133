"""Severity and frequency families against closed forms."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from actuarial.config.distributions import Gamma, LogNormal, NegativeBinomial, Poisson, SplicedPareto


@pytest.mark.parametrize("dist", [LogNormal(13000, 1.4), Gamma(5000, 0.8), SplicedPareto(10500, 1.2, 60_000, 2.7)])
def test_sample_mean_matches_closed_form(dist):
    x = dist.rvs(np.random.default_rng(7), 400_000)
    se = x.std() / math.sqrt(x.size)
    assert abs(x.mean() - dist.mean()) < 4 * se


@pytest.mark.parametrize("dist", [LogNormal(13000, 1.4), Gamma(5000, 0.8), SplicedPareto(10500, 1.2, 60_000, 2.7)])
def test_ppf_inverts_cdf_and_mean_integrates_sf(dist):
    q = np.array([0.01, 0.3, 0.5, 0.9, 0.99, 0.9999])
    assert np.allclose(dist.cdf(dist.ppf(q)), q, rtol=1e-9, atol=1e-12)
    # E[X] = ∫ S(x) dx, split at the quantiles so quad sees the tail.
    # Quad on finite pieces; beyond T the Pareto tail integrates in closed form, S(T)·T/(alpha − 1).
    knots = sorted([0.0, *dist.ppf([0.5, 0.9, 0.99, 0.999, 0.9999, 1 - 1e-12]), getattr(dist, "threshold", 1.0)])
    total = sum(integrate.quad(lambda t: float(dist.sf(t)), a, b, limit=500)[0] for a, b in zip(knots, knots[1:]))
    if isinstance(dist, SplicedPareto):
        total += float(dist.sf(knots[-1])) * knots[-1] / (dist.alpha - 1)
    assert total == pytest.approx(dist.mean(), rel=1e-5)


def test_lognormal_parameters_by_hand():
    d = LogNormal(10_000, 1.0)
    # cv = 1 → sigma² = ln 2, mu = ln(10,000) − ln(2)/2
    assert d.sigma == pytest.approx(math.sqrt(math.log(2)))
    assert d.mu == pytest.approx(math.log(10_000) - math.log(2) / 2)
    assert d.limited_mean(1e12) == pytest.approx(10_000)


def test_spliced_pareto_tail_is_pareto_and_body_unchanged():
    d = SplicedPareto(10_000, 1.0, 50_000, 2.0)
    body = LogNormal(10_000, 1.0)
    assert d.cdf(20_000) == pytest.approx(body.cdf(20_000))
    p = d.tail_probability
    assert d.sf(100_000) == pytest.approx(p * (50_000 / 100_000) ** 2)


def test_negative_binomial_moments():
    m, disp = np.full(300_000, 0.2), 1.5
    n = NegativeBinomial(disp).rvs(np.random.default_rng(3), m)
    assert abs(n.mean() - 0.2) < 4 * n.std() / math.sqrt(n.size)
    assert n.var() == pytest.approx(0.2 + disp * 0.2**2, rel=0.03)
    assert NegativeBinomial(disp).pmf(0, 0.2) == pytest.approx(stats.nbinom.pmf(0, 1 / disp, (1 / disp) / (1 / disp + 0.2)))
    assert Poisson().pmf(1, 0.2) == pytest.approx(0.2 * math.exp(-0.2))
