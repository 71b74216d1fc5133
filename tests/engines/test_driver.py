"""The heavy-pass driver: argument checks, the floor, and engine="auto"'s choice and its record."""

import json

import pytest

from actuarial import simulate
from actuarial.cli import main
from actuarial.engines.driver import choose_engine, fast_covers, pass_floor


def test_auto_picks_fast_where_its_rules_cover_the_scenario(qinzhou):
    assert fast_covers(qinzhou) and choose_engine(qinzhou) == "fast"
    # A disease-list scope: out-of-scope costs fill the basic annual cap below the floor.
    listed = qinzhou.replace(**{"cii.scope": ["cancer"]})
    assert not fast_covers(listed) and choose_engine(listed) == "brute"
    # A basic annual cap that binds below the floor: the fast engine's selection would miss people.
    capped = qinzhou.replace(**{"basic.annual_cap": 1000})
    assert choose_engine(capped) == "brute"
    assert choose_engine(qinzhou, engine="gpu") == "gpu"  # asked for: never chosen by auto
    with pytest.raises(ValueError, match="engine must be one of"):
        choose_engine(qinzhou, engine="quick")


def test_auto_records_its_pick(qinzhou):
    res = simulate(qinzhou.replace(**{"population.size": 20_000}), years=2, seed=1)
    assert res.accumulations.engine == "fast" and res.to_dict()["engine"] == "fast"
    res = simulate(qinzhou.replace(**{"population.size": 20_000, "cii.scope": ["cancer"]}), years=2, seed=1)
    assert res.accumulations.engine == "brute"


def test_cli_reports_the_engine(capsys):
    assert main(["run", "scenarios/qinzhou_2016.toml", "--size", "20000", "--years", "2", "--format", "json",
                 "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["engine"] == "fast"


@pytest.mark.parametrize("years, floor, words", [(0, None, "years must be >= 1"), (2, -1, "floor must be >= 0")])
def test_pass_floor_checks(qinzhou, years, floor, words):
    with pytest.raises(ValueError, match=words):
        pass_floor(qinzhou, years, floor)
    assert pass_floor(qinzhou, 1, None) == min(qinzhou.cii.deductible, qinzhou.cii.effective_poor_deductible)
