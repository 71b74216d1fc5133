"""The default tables: every number has a source (or is marked an assumption) and the tables reproduce
the published figures they were built from."""

from __future__ import annotations

import numpy as np
import pytest

from actuarial.config import tables
from actuarial.config.distributions import severity_from_spec
from actuarial.scenario import Claims, default_streams


def test_every_source_names_its_kind_source_and_year():
    kinds = {s.kind for s in tables.SOURCES}
    assert kinds <= {"statistic", "assumption", "calibration"}
    for s in tables.SOURCES:
        assert s.source, s.name
        if s.kind == "statistic":
            assert s.year is not None and 1990 <= s.year <= 2030, s.name
        if s.kind == "assumption":
            assert "ASSUMPTION" in s.source, s.name
        if s.kind == "calibration":
            assert "target" in (s.source + s.note) and "fitted" in s.note, s.name


def test_sources_frame_lists_every_entry():
    frame = tables.sources_frame()
    assert list(frame.columns) == ["name", "value", "unit", "kind", "source", "year", "note"]
    assert len(frame) == len(tables.SOURCES) and frame.name.is_unique


def test_tables_values_match_their_sources():
    by_name = {s.name: s for s in tables.SOURCES}
    assert by_name["ADMISSIONS_BY_AGE"].value == tables.ADMISSIONS_BY_AGE
    assert by_name["COST_PER_ADMISSION.tertiary"].value == tables.COST_PER_ADMISSION["tertiary"]
    assert by_name["BASIC_INPATIENT.coinsurance_percent"].value == {
        k: v["coinsurance_percent"] for k, v in tables.BASIC_INPATIENT.items()}


def test_default_streams_give_the_bulletin_admission_rate_on_census_ages():
    """Expected inpatient episodes per person-year, by hand from the stream parameters: 17.6 per 100."""
    w = tables.census_band_weights()
    assert w.sum() == pytest.approx(1.0)
    female = 0.49  # Population.female_share default
    total = 0.0
    for s in default_streams():
        if s.setting != "inpatient":
            continue
        prev = s.prevalence * (np.asarray(s.prevalence_age_factor) if s.prevalence_age_factor else 1.0)
        sex = female * s.female_factor + (1 - female)
        total += float(np.sum(w * prev * np.asarray(s.episodes_by_age))) * sex
    assert 100 * total == pytest.approx(tables.TARGET_ADMISSIONS_PER_100, abs=0.1)


def test_cancer_stream_has_the_published_share_in_treatment():
    cancer = next(s for s in default_streams() if s.name == "cancer")
    share = cancer.prevalence * float(np.dot(tables.census_band_weights(), cancer.prevalence_age_factor))
    assert share == pytest.approx(tables.CANCER_IN_TREATMENT, rel=0.01)


def test_general_admissions_use_the_published_level_mix_and_costs():
    adm = Claims().streams[0]
    assert adm.level_mix == tables.ADMISSION_LEVEL_MIX and sum(adm.level_mix.values()) == pytest.approx(1)
    # The published mean is the whole distribution's, the spliced Pareto tail included; the spec's
    # ``mean`` of a spliced family is the lognormal body's, solved from the statistic.
    for level, cited in tables.COST_PER_ADMISSION.items():
        assert severity_from_spec(adm.severity[level]).mean() == pytest.approx(cited, rel=1e-6), level
    spliced = adm.severity["tertiary"]
    assert spliced.family == "spliced_pareto" and spliced.mean < tables.COST_PER_ADMISSION["tertiary"]

