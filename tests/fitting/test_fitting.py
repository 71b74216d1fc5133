"""Fitting experience data: recovers the parameters the bundled synthetic data were drawn from.

Tolerances are four standard errors of each estimate (from the observed
information at the MLE), and each test also checks that the standard error is
small enough for the comparison to mean something at this sample size
(200,000 insured, about 21,800 episodes).
"""

import math
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from actuarial.fitting import ExperienceError, build_scenario, fit_experience, fit_severity  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"
sys.path.insert(0, str(DATA))
import make_claims as truth  # noqa: E402

CLAIMS, ENROL = DATA / "claims.csv", DATA / "enrolment.csv"


@pytest.fixture(scope="module")
def fit():
    return fit_experience(CLAIMS, ENROL)


def close(est, true, se, max_rel_se):
    assert se / abs(true) < max_rel_se, f"standard error {se} too large to test {true}"
    assert abs(est - true) < 4 * se, f"estimate {est} is more than 4 se ({se}) from {true}"


def test_bundled_data_is_small_and_has_no_real_ids():
    assert CLAIMS.stat().st_size < 2e6
    ids = pd.read_csv(CLAIMS, usecols=["person_id"]).person_id
    assert ids.str.fullmatch(r"S\d{6}").all()


def test_frequency_recovers_rates_sex_scheme_and_dispersion(fit):
    f = fit.frequency["admissions"]
    t = truth.TRUE_STREAM
    assert f.family == "negative_binomial" and f.aic["negative_binomial"] < f.aic["poisson"] - 10
    assert f.reference == "ncms"  # the most populous scheme is the reference
    ref = t["scheme_factor"]["ncms"]
    for est, se, true in zip(f.episodes_by_age, f.se["episodes_by_age"], t["episodes_by_age"]):
        close(est, true * ref, se, 0.06)
    close(f.female_factor, t["female_factor"], f.se["female_factor"], 0.03)
    close(f.scheme_factor["urban"], t["scheme_factor"]["urban"] / ref, f.se["scheme_factor.urban"], 0.03)
    close(f.dispersion, t["dispersion"], f.se["dispersion"], 0.1)


def test_fitted_frequency_reproduces_the_observed_total(fit):
    # A log-link model with one free rate per band reproduces each band's episode total (Poisson
    # score equations); the NB fit is close to it.
    table = fit.frequency_table()
    assert table.fitted_rate.mul(table.insured).sum() == pytest.approx(len(pd.read_csv(CLAIMS)), rel=0.01)


def test_severity_families_and_parameters(fit):
    sev = truth.TRUE_STREAM["severity"]
    assert {lvl: fit.severity(lvl).best for lvl in sev} == {lvl: s["family"] for lvl, s in sev.items()}
    # Lognormal levels: mu and sigma against the truth.
    for lvl in ("secondary", "out_of_area"):
        s = fit.severity(lvl)
        true_sigma = math.sqrt(math.log1p(sev[lvl]["cv"] ** 2))
        true_mu = math.log(sev[lvl]["mean"]) - true_sigma**2 / 2
        fitted_sigma = math.sqrt(math.log1p(s.params["lognormal"]["cv"] ** 2))
        fitted_mu = math.log(s.params["lognormal"]["mean"]) - fitted_sigma**2 / 2
        close(fitted_mu, true_mu, s.se["lognormal"]["mu"], 0.01)
        close(fitted_sigma, true_sigma, s.se["lognormal"]["sigma"], 0.05)
    # Gamma level: shape = 1 / cv².
    s = fit.severity("primary")
    close(1 / s.params["gamma"]["cv"] ** 2, 1 / sev["primary"]["cv"] ** 2, s.se["gamma"]["shape"], 0.03)
    # Spliced level: with the threshold fixed, the tail index (Hill MLE, se = alpha / sqrt(n_tail)).
    tert = pd.read_csv(CLAIMS).query("level == 'tertiary'").cost.to_numpy()
    s = fit_severity(tert, level="tertiary", threshold=30000)
    close(s.params["spliced_pareto"]["alpha"], 2.0, s.se["spliced_pareto"]["alpha"], 0.1)
    assert s.params["spliced_pareto"]["mean"] == pytest.approx(12000, rel=0.05)  # body mean, se ≈ 1.5 %


def test_hill_estimator_by_hand():
    # 25 tail points u·e^(1, 1, 0.5, 0.5, 1) (five times) give alpha = 25 / Σ log(x/u) = 25 / 20 = 1.25.
    rng = np.random.default_rng(0)
    body = rng.lognormal(8, 0.5, 400)
    body = body[body < 20000]
    tail = 20000 * np.exp([1, 1, 0.5, 0.5, 1] * 5)  # 25 points, Σ log(x/u) = 5 * 4 = 20
    s = fit_severity(np.concatenate([body, tail]), threshold=20000, families=("spliced_pareto",))
    assert s.params["spliced_pareto"]["alpha"] == pytest.approx(25 / 20)


def test_compliant_share_and_basic_terms(fit):
    lv = fit.levels.set_index("level")
    for lvl, pct in truth.TRUE_COMPLIANT_PERCENT.items():
        assert lv.loc[lvl, "compliant_percent"] == pytest.approx(pct, abs=1e-3)  # data rounded to the fen
        assert lv.loc[lvl, "basic_deductible"] == pytest.approx(truth.TRUE_BASIC[lvl]["deductible"], rel=1e-3)
        assert lv.loc[lvl, "basic_coinsurance_percent"] == pytest.approx(truth.TRUE_BASIC[lvl]["coinsurance_percent"],
                                                                        rel=1e-3)


def test_build_scenario_overrides_claims_and_validates(fit, provincial):
    sc = build_scenario(fit, provincial)
    names = [s.name for s in sc.claims.streams]
    assert names == [s.name for s in provincial.claims.streams]  # replaced in place, others kept
    adm = sc.claims.streams[0]
    f = fit.frequency["admissions"]
    assert adm.episodes_by_age == f.episodes_by_age and adm.dispersion == f.dispersion
    assert adm.severity["tertiary"].family == "spliced_pareto" and adm.severity["primary"].family == "gamma"
    assert sc.population.size == 200_000
    assert sc.population.scheme_shares["urban"] == pytest.approx(0.3, abs=0.01)
    assert sc.basic.inpatient["tertiary"].coinsurance_percent == pytest.approx(55, rel=1e-3)
    assert sc.claims.compliant_percent["out_of_area"] == pytest.approx(70, abs=1e-3)
    assert sc.cii == provincial.cii and sc.funding == provincial.funding


def test_privacy_no_ids_and_small_cells_suppressed():
    fit = fit_experience(CLAIMS, ENROL, min_cell_size=5000)
    text = fit._repr_html_() + repr(fit) + fit.frequency_table().to_csv() + fit.severity_table().to_csv() + \
        fit.levels.to_csv()
    assert "S0" not in text and "person_id" not in text
    t = fit.frequency_table()
    small = t.suppressed
    assert small.any() and (~small).any()
    assert t.loc[small, ["insured", "episodes", "observed_rate"]].isna().all().all()
    assert t.loc[~small, "insured"].min() >= 5000
    assert fit.levels.set_index("level").loc["out_of_area", "suppressed"]  # about 1,100 people


def test_level_with_too_few_people_keeps_base_severity(provincial):
    c = pd.read_csv(CLAIMS)
    few = c[c.level == "out_of_area"].person_id.unique()[:3]
    c = c[(c.level != "out_of_area") | c.person_id.isin(few)]
    fit = fit_experience(c, ENROL)
    assert ("admissions", "out_of_area") not in fit.severities and fit.notes
    sc = build_scenario(fit, provincial)
    assert sc.claims.streams[0].severity["out_of_area"] == provincial.claims.streams[0].severity["out_of_area"]


def test_gof_plots(fit):
    ax = fit.plot("tertiary", "qq")
    assert len(ax.get_lines()) == 4  # three families and the diagonal
    ax = fit.plot("secondary", "cdf")
    assert ax.get_ylabel() == "cumulative probability"
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("edit, match", [
    (lambda c: c.drop(columns="compliant"), r"claims.csv: missing column\(s\) \['compliant'\]"),
    (lambda c: c.assign(level=c.level.where(c.index != 4, "clinic")), r"column 'level'.*data row 5.*'clinic'.*primary"),
    (lambda c: c.assign(compliant=c.cost * 1.5), r"column 'compliant'.*between 0 and the row's cost"),
    (lambda c: c.assign(age=c.age.astype(str).where(c.index != 0, "old")), r"column 'age'.*'old'.*finite number"),
    (lambda c: c.assign(sex="X"), r"column 'sex'.*one of"),
])
def test_bad_claims_files_give_clear_errors(tmp_path, edit, match):
    bad = tmp_path / "claims.csv"
    edit(pd.read_csv(CLAIMS)).to_csv(bad, index=False)
    with pytest.raises(ExperienceError, match=match):
        fit_experience(bad, ENROL)


def test_bad_enrolment_files_give_clear_errors(tmp_path):
    e = pd.read_csv(ENROL)
    with pytest.raises(ExperienceError, match="no such claims file"):
        fit_experience(tmp_path / "nope.csv", ENROL)
    path = tmp_path / "enrol.csv"
    e[e.age_band != "80+"].to_csv(path, index=False)
    with pytest.raises(ExperienceError, match=r"enrol.csv: column 'age_band': no insured in band\(s\) \['80\+'\]"):
        fit_experience(CLAIMS, path)
    path2 = tmp_path / "enrol2.csv"
    e.assign(insured=e.insured // 100).to_csv(path2, index=False)
    with pytest.raises(ExperienceError, match="people with claims; expected insured >= claimants"):
        fit_experience(CLAIMS, path2)
    path3 = tmp_path / "enrol3.parquet"
    path3.write_text("not parquet")
    with pytest.raises(ExperienceError, match="cannot read as parquet"):
        fit_experience(CLAIMS, path3)


def test_poisson_frequency_by_hand():
    # One sex, one scheme, 100 insured per band; in band i, i + 1 people have one episode each.
    # No extra-Poisson variation, so Poisson wins and the MLE is episodes / insured: (i + 1) / 100.
    from actuarial.fitting import BANDS, fit_frequency, read_claims, read_enrolment

    ages = [2, 10, 30, 50, 65, 75, 85]
    rows = [{"person_id": f"b{i}p{j}", "age": a, "sex": "M", "scheme": "merged", "level": "secondary", "cost": 1000.0,
             "compliant": 900.0, "basic_paid": 500.0} for i, a in enumerate(ages) for j in range(i + 1)]
    enrol = pd.DataFrame({"age_band": BANDS, "sex": "M", "scheme": "merged", "insured": 100})
    f = fit_frequency(read_claims(pd.DataFrame(rows)), read_enrolment(enrol))
    assert f.family == "poisson" and f.dispersion == 0.0
    assert f.episodes_by_age == pytest.approx([(i + 1) / 100 for i in range(7)], rel=1e-5)
    # Poisson se of a rate: sqrt(episodes) / insured.
    assert f.se["episodes_by_age"] == pytest.approx([math.sqrt(i + 1) / 100 for i in range(7)], rel=1e-3)


def test_parquet_input_gives_the_same_fit(tmp_path, fit):
    path = tmp_path / "claims.parquet"
    pd.read_csv(CLAIMS).to_parquet(path)
    again = fit_experience(path, ENROL)
    assert again.frequency["admissions"].episodes_by_age == fit.frequency["admissions"].episodes_by_age
    assert again.severity("tertiary").params == fit.severity("tertiary").params
