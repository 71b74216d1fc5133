"""The bundled scenario files: each loads, simulates, is plausible, and quotes its seed faithfully."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from actuarial import load_scenario, simulate
from actuarial.results.calibration import calibrate_premium

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
FILES = sorted(p.name for p in SCENARIOS.glob("*.toml"))
# The policy texts sit beside the repository (README: ../shared/seeds/); the check skips without them.
SEED_001 = ROOT.parent / "shared" / "seeds" / "001_8ded97e80ac52be5.txt"


def test_every_programme_of_the_domain_brief_has_a_file():
    expected = {"provincial_guideline.toml", "qinzhou_2016.toml", "daqing_2015_urban.toml", "daqing_2015_ncms.toml",
                "shanghai.toml", "henan_2013_urban.toml", "henan_2013_ncms.toml", "national_2012_urban.toml",
                "national_2012_ncms.toml", "default_county.toml"}
    assert expected <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_scenario_is_documented(name):
    """Each file names its source and marks every value the seed leaves out as an ASSUMPTION."""
    text = (SCENARIOS / name).read_text(encoding="utf-8")
    sc = load_scenario(SCENARIOS / name)
    assert sc.programme.source
    assert "# ASSUMPTION" in text
    if name != "default_county.toml":
        assert re.search(r"lines \d+-\d+", sc.programme.source), sc.programme.source


@pytest.mark.parametrize("name", FILES)
def test_scenario_simulates_with_a_meaningful_se(name):
    """Each file simulates at 10^5 insured with a loss ratio known to within a few percent of itself.

    No range is imposed on the loss ratio itself: the claims inputs come from published statistics
    (actuarial/config/tables.py), so a scenario may show a loss or a large surplus; actuarial.fitting.backtest sets
    its outputs beside published figures instead.
    """
    sc = load_scenario(SCENARIOS / name).replace(**{"population.size": 100_000})
    res = simulate(sc, years=5, seed=2024, progress=False)
    lr = res.loss_ratio()
    assert 0 < lr.value < 10, f"{name}: loss ratio {lr.value:.3f} (se {lr.se:.3f})"
    assert 0 < lr.se < 0.1 * lr.value


def test_default_county_calibrates_at_its_own_size():
    sc = load_scenario(SCENARIOS / "default_county.toml")
    assert sc.population.size == 100_000 and set(sc.population.scheme_shares) == {"merged"}
    cal = calibrate_premium(sc, years=5, seed=1, progress=False)
    assert cal.ci95[0] < cal.premium < cal.ci95[1]
    assert 15 < cal.premium < 45  # yuan per person-year, the range of real premiums (20-50)


# Numbers the files take from the seed: (file, dotted field, value, seed line, text on that line).
FACTS = [
    ("provincial_guideline.toml", "funding.per_capita.urban", 29, 163, "29元"),
    ("provincial_guideline.toml", "funding.per_capita.ncms", 25, 163, "25元"),
    ("provincial_guideline.toml", "cii.deductible", 8000, 177, "起付线为8000元"),
    ("provincial_guideline.toml", "cii.cap", 220_000, 177, "22万元"),
    ("qinzhou_2016.toml", "funding.per_capita.merged", 33, 1057, "33元/人"),
    ("qinzhou_2016.toml", "cii.deductible", 6000, 1077, "6000元"),
    ("qinzhou_2016.toml", "cii.poor_deductible", 3000, 1079, "3000元"),
    ("qinzhou_2016.toml", "cii.cap", 500_000, 1085, "50万元"),
    ("qinzhou_2016.toml", "cii.tiers.3.above", 60_000, 1073, "60000以上"),
    ("daqing_2015_urban.toml", "funding.per_capita.urban", 25, 875, "25"),
    ("daqing_2015_urban.toml", "cii.deductible", 18_000, 823, "18000"),
    ("daqing_2015_ncms.toml", "funding.per_capita.ncms", 20, 879, "20"),
    ("daqing_2015_ncms.toml", "cii.deductible", 12_443, 831, "12443"),
    ("daqing_2015_urban.toml", "cii.tiers.1.rate_percent", 55, 861, "55%"),   # the clause after NCMS's (l.849-867)
    ("daqing_2015_ncms.toml", "contract.surplus_cap_percent", 4, 941, "4%"),
    ("daqing_2015_urban.toml", "contract.payment_schedule.0.percent", 50, 907, "50%"),
    ("daqing_2015_urban.toml", "contract.payment_schedule.1.percent", 40, 915, "40%"),
    ("daqing_2015_urban.toml", "contract.bond.withheld_percent", 10, 919, "10%"),
    ("shanghai.toml", "funding.basic_fund_share_percent", 2, 543, "2%左右"),
    ("shanghai.toml", "cii.tiers.0.rate_percent", 55, 551, "报销55%"),
    ("henan_2013_urban.toml", "funding.basic_fund_share_percent", 6, 717, "6%左右"),
]


def _get(sc, dotted: str):
    node = sc
    for key in dotted.split("."):
        node = node[int(key)] if key.isdigit() else node[key] if isinstance(node, dict) else getattr(node, key)
    return node


@pytest.mark.skipif(not SEED_001.is_file(), reason="the seed texts are not beside this checkout")
@pytest.mark.parametrize("name, field, value, line, text", FACTS)
def test_numbers_quote_the_seed(name, field, value, line, text):
    assert _get(load_scenario(SCENARIOS / name), field) == value
    assert text in SEED_001.read_text(encoding="utf-8").splitlines()[line - 1]
