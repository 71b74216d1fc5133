"""Shared fixtures: small versions of the bundled scenarios, so the suite stays fast."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(autouse=True)
def _repo_root_cwd(monkeypatch):
    """Doctests and CLI examples use paths relative to the repository root."""
    monkeypatch.chdir(ROOT)
    os.environ.setdefault("ACTUARIAL_SMALL", "1")


@pytest.fixture(scope="session")
def provincial():
    from actuarial import load_scenario

    # The file is a whole province (30 million, l.167); tests price a prefecture-sized 10^6 of it.
    return load_scenario(SCENARIOS / "provincial_guideline.toml").replace(**{"population.size": 1_000_000})


@pytest.fixture(scope="session")
def qinzhou():
    from actuarial import load_scenario

    return load_scenario(SCENARIOS / "qinzhou_2016.toml")
