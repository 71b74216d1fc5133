"""Small designed scenarios shared by the tests of several layers: homogeneous populations whose
exact law is known (the exact method, the engines' contract suite, the control variate, assistance
and indexed amounts are all held to them)."""

from actuarial import validate_scenario

OLD_MEN = [0.0] * 14 + [1.0] + [0.0] * 3  # everyone aged 70-74: one utilisation band (70-79)


def design(streams=None, cii=None, basic=None, population=None, compliant=None, claims=None):
    """A homogeneous population (one age band, one sex, one scheme) with a high claim rate."""
    ln = {"family": "lognormal", "mean": 9000, "cv": 1.0}
    sc = {
        "programme": {"name": "exact test"},
        "population": {"size": 60_000, "age_shares": OLD_MEN, "female_share": 0.0, **(population or {})},
        "funding": {"per_capita": {"merged": 30}},
        "claims": {"streams": streams or [{"name": "adm", "episodes_by_age": [1.0] * 7, "level_mix": {"tertiary": 1.0},
                                           "severity": {"tertiary": ln}}],
                   "compliant_percent": compliant or {"primary": 95, "secondary": 90, "tertiary": 85, "out_of_area": 75},
                   "category_b_percent": 0, "category_c_percent": 0, **(claims or {})},
        # Basic terms pinned here (not the default tables'), so these hand-worked cases stay as worked.
        "basic": {"annual_cap": 1e9, "inpatient": {"primary": {"deductible": 200, "coinsurance_percent": 90},
                                                   "secondary": {"deductible": 500, "coinsurance_percent": 75},
                                                   "tertiary": {"deductible": 1000, "coinsurance_percent": 60},
                                                   "out_of_area": {"deductible": 1500, "coinsurance_percent": 45}},
                  **(basic or {})},
        "cii": {"deductible": 3000, "tiers": [{"above": 0, "rate_percent": 50}], **(cii or {})},
    }
    return validate_scenario(sc)


STREAMS_SCOPE = [
    {"name": "adm", "episodes_by_age": [0.8] * 7, "level_mix": {"secondary": 0.5, "tertiary": 0.5},
     "severity": {"secondary": {"family": "lognormal", "mean": 5000, "cv": 1.1},
                  "tertiary": {"family": "gamma", "mean": 12000, "cv": 1.2}}},
    {"name": "cancer", "disease": "cancer", "prevalence": 0.3, "episodes_by_age": [3.0] * 7, "dispersion": 0.5,
     "level_mix": {"tertiary": 0.8, "out_of_area": 0.2},
     "severity": {"tertiary": {"family": "lognormal", "mean": 14000, "cv": 0.9},
                  "out_of_area": {"family": "spliced_pareto", "mean": 20000, "cv": 1.0, "threshold": 60000,
                                  "alpha": 2.5}}},
    {"name": "dialysis", "disease": "uremia_dialysis", "setting": "outpatient", "prevalence": 0.2,
     "episodes_by_age": [6.0] * 7, "level_mix": {"secondary": 1.0},
     "severity": {"secondary": {"family": "gamma", "mean": 3000, "cv": 0.4}}},
]

DESIGNS = {
    "poisson_one_tier": design(),
    "nb_tiers_cap_with_basic_deductible": design(
        streams=[{"name": "adm", "episodes_by_age": [1.2] * 7, "dispersion": 1.5,
                  "level_mix": {"primary": 0.3, "secondary": 0.3, "tertiary": 0.4},
                  "severity": {"primary": {"family": "lognormal", "mean": 2000, "cv": 0.9},
                               "secondary": {"family": "lognormal", "mean": 6000, "cv": 1.1},
                               "tertiary": {"family": "lognormal", "mean": 13000, "cv": 1.3}}}],
        cii={"deductible": 5000, "includes_basic_deductible": True, "cap": 20_000,
             "tiers": [{"above": 0, "rate_percent": 50}, {"above": 10_000, "rate_percent": 65},
                       {"above": 30_000, "rate_percent": 80}]}),
    "poor_rules_and_bc_self_pay": design(
        population={"female_share": 1.0, "poverty_rate_percent": {"merged": 40}},
        cii={"deductible": 6000, "poor_deductible": 2000, "poor_points": 10,
             "category_b_self_pay_percent": 15, "category_c_self_pay_percent": 30,
             "tiers": [{"above": 0, "rate_percent": 50}, {"above": 20_000, "rate_percent": 60}]},
        claims={"category_b_percent": 20, "category_c_percent": 5}),
    "disease_list_scope_regions": design(
        streams=STREAMS_SCOPE, population={"regions": [{"name": "a", "share": 0.6}, {"name": "b", "share": 0.4,
                                                                                    "cost_factor": 1.4}]},
        cii={"deductible": 4000, "scope": ["cancer", "uremia_dialysis"],
             "tiers": [{"above": 0, "rate_percent": 60}, {"above": 30_000, "rate_percent": 75}]}),
}


def indexed_design(indexed=None, cii=None, contract=None, population=None, funding=None):
    """A homogeneous, high-cost population with an income-indexed CII deductible (after :func:`design`)."""
    ln = {"family": "lognormal", "mean": 9000, "cv": 1.0}
    return validate_scenario({
        "programme": {"name": "indexed test"},
        "population": {"size": 60_000, "age_shares": OLD_MEN, "female_share": 0.0, **(population or {})},
        "funding": funding or {"per_capita": {"merged": 30}},
        "claims": {"streams": [{"name": "adm", "episodes_by_age": [1.0] * 7, "level_mix": {"tertiary": 1.0},
                                "severity": {"tertiary": ln}}],
                   "category_b_percent": 0, "category_c_percent": 0, "cost_trend_percent": 8},
        "basic": {"annual_cap": 1e9},
        "cii": {"tiers": [{"above": 0, "rate_percent": 60}], **(cii or {})},
        "indexed": {"base_year": 2017, "income_series": "rural", "deductible_income_percent": 25, **(indexed or {})},
        "contract": contract or {"years": 3},
    })
