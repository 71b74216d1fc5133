"""Severity families on the Severity base class: scipy.stats families by name, the histogram, and the
base class's numerical defaults, each against scipy; and both new families in a scenario file."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from actuarial import load_scenario
from actuarial.config.distributions import Gamma, LogNormal, Severity, SplicedPareto
from actuarial.scenario import ScenarioError
from actuarial.config.severities import Histogram, ScipySeverity

Q = np.array([1e-6, 0.01, 0.3, 0.5, 0.9, 0.999])


def test_scipy_family_matches_scipy():
    sev = ScipySeverity("weibull_min", {"c": 0.8, "scale": 9000.0})
    ref = stats.weibull_min(0.8, scale=9000.0)
    x = np.array([0.0, 100.0, 9000.0, 1e5])
    np.testing.assert_allclose(sev.cdf(x), ref.cdf(x), rtol=1e-14)
    np.testing.assert_allclose(sev.sf(x), ref.sf(x), rtol=1e-14)
    np.testing.assert_allclose(sev.ppf(Q), ref.ppf(Q), rtol=1e-12)
    np.testing.assert_allclose(sev.isf(1e-12), ref.isf(1e-12), rtol=1e-12)
    assert sev.mean() == pytest.approx(ref.mean(), rel=1e-12)
    for u in (500.0, 9000.0, 60_000.0):
        assert sev.limited_mean(u) == pytest.approx(ref.expect(lambda t: np.minimum(t, u)), rel=1e-6)
    draws = sev.rvs(np.random.default_rng(1), 200_000)
    assert abs(draws.mean() - ref.mean()) < 4 * draws.std() / math.sqrt(draws.size)


def test_histogram_matches_scipy_rv_histogram():
    edges, p = [0.0, 1000.0, 4000.0, 4000.5, 20_000.0, 90_000.0], [0.3, 0.4, 0.0, 0.25, 0.05]
    sev, ref = Histogram(edges, p), stats.rv_histogram((np.array(p), np.array(edges)), density=False)
    x = np.array([0.0, 500.0, 1000.0, 3999.0, 25_000.0, 1e6])
    np.testing.assert_allclose(sev.cdf(x), ref.cdf(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sev.ppf(Q), ref.ppf(Q), rtol=1e-9)
    np.testing.assert_allclose(sev.cdf(sev.isf(Q)), 1 - Q, rtol=1e-9)
    assert sev.mean() == pytest.approx(ref.mean(), rel=1e-12)
    for u in (700.0, 4000.2, 50_000.0, 1e9):
        knots = [0.0, *[e for e in edges if 0 < e < u], u]   # ∫_0^u S by quad, piece by piece
        ref_lm = sum(integrate.quad(lambda t: float(ref.sf(t)), a, b)[0] for a, b in zip(knots, knots[1:]))
        assert sev.limited_mean(u) == pytest.approx(ref_lm, rel=1e-9)


def test_histogram_by_hand():
    h = Histogram([0, 1000, 5000], [1, 1])   # normalised: 0.5 each
    assert h.mean() == 1750.0
    assert float(h.ppf(0.75)) == 3000.0
    assert h.limited_mean(1000) == 750.0   # ∫_0^1000 (1 − x/2000) dx


class Exponential(Severity):
    """A family given only by its cdf: everything else from the base class's numerical defaults."""

    def __init__(self, scale):
        self.scale = scale

    def _cdf(self, x):
        return -np.expm1(-np.maximum(x, 0) / self.scale)


def test_base_class_derives_the_rest_numerically():
    e, ref = Exponential(3000.0), stats.expon(scale=3000.0)
    np.testing.assert_allclose(e.sf([10.0, 3000.0]), ref.sf([10.0, 3000.0]), rtol=1e-12)
    np.testing.assert_allclose(e.ppf(Q[1:]), ref.ppf(Q[1:]), rtol=1e-9)
    np.testing.assert_allclose(e.isf(1e-3), ref.isf(1e-3), rtol=1e-9)
    assert e.limited_mean(2000.0) == pytest.approx(3000.0 * -math.expm1(-2000.0 / 3000.0), rel=1e-8)
    assert e.mean() == pytest.approx(3000.0, rel=1e-6)
    x = e.rvs(np.random.default_rng(2), 100_000)
    assert abs(x.mean() - 3000.0) < 4 * 3000.0 / math.sqrt(x.size)


@pytest.mark.parametrize("sev", [LogNormal(13000, 1.4), Gamma(5000, 0.8), SplicedPareto(10500, 1.2, 60_000, 2.7)])
def test_closed_forms_agree_with_the_base_class_defaults(sev):
    """Each closed-form hook equals the base class's numerical one (so both are right or both wrong)."""
    for u in (2000.0, 20_000.0, 200_000.0):
        numeric = sum(integrate.quad(lambda t: float(sev.sf(t)), a, b, limit=400)[0]
                      for a, b in zip([0, u / 10, u / 2], [u / 10, u / 2, u]))
        assert sev.limited_mean(u) == pytest.approx(numeric, rel=1e-7)
    s = np.array([0.5, 1e-3, 1e-9])
    np.testing.assert_allclose(sev.sf(sev.isf(s)), s, rtol=1e-7)
    np.testing.assert_allclose(sev.isf(s), Severity._isf(sev, s), rtol=1e-6)


@pytest.mark.parametrize("spec, field, words", [
    ({"family": "scipy", "name": "weibul"}, "name", "not a continuous scipy.stats distribution"),
    ({"family": "scipy", "name": "weibull_min", "params": {"k": 1}}, "params", "do not fit"),
    ({"family": "scipy", "name": "norm", "params": {"loc": 100, "scale": 10}}, "params", "support"),
    ({"family": "scipy", "name": "pareto", "params": {"b": 0.8, "scale": 100}}, "params", "finite mean"),
    ({"family": "histogram", "edges": [0, 10, 5], "probabilities": [1, 1]}, "edges", "increasing"),
    ({"family": "histogram", "edges": [0, 10, 50], "probabilities": [1]}, "probabilities", "one per bin"),
])
def test_bad_specs_name_the_field(spec, field, words):
    sc = load_scenario("scenarios/provincial_guideline.toml")
    with pytest.raises(ScenarioError) as err:
        sc.replace(**{"claims.streams.0.severity.tertiary": spec})
    msg = str(err.value)
    assert f"claims.streams.0.severity.tertiary.{field}:" in msg and words in msg
    assert len(msg.splitlines()) == 1


def test_new_families_load_from_a_scenario_file(tmp_path):
    text = open("scenarios/provincial_guideline.toml", encoding="utf-8").read()
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    sc = load_scenario(path).replace(**{
        "claims.streams.0.severity.tertiary": {"family": "scipy", "name": "weibull_min",
                                               "params": {"c": 0.9, "scale": 14000}},
        "claims.streams.0.severity.secondary": {"family": "histogram", "edges": [0, 2000, 8000, 40000],
                                                "probabilities": [0.3, 0.5, 0.2]}})
    from actuarial.config.distributions import severity_from_spec

    assert isinstance(severity_from_spec(sc.claims.streams[0].severity["tertiary"]), ScipySeverity)
    assert isinstance(severity_from_spec(sc.claims.streams[0].severity["secondary"]), Histogram)
