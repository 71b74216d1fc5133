"""Reading claims and enrolment files (CSV or parquet) with one-line errors naming file, column, row
and the expected values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..config import tables
from ..scenario import LEVELS, SCHEMES

CLAIMS_COLUMNS = ("person_id", "age", "sex", "scheme", "level", "cost", "compliant", "basic_paid")
ENROLMENT_COLUMNS = ("age_band", "sex", "scheme", "insured")
BANDS = tables.UTILISATION_BAND_LABELS
SEVERITY_FAMILIES = ("lognormal", "gamma", "spliced_pareto")
_SEX = {"F": True, "M": False, "female": True, "male": False, "f": True, "m": False, "女": True, "男": False}
_TAIL_QUANTILES = (0.8, 0.85, 0.9, 0.95, 0.975)
_MIN_TAIL = 20  # tail observations needed to estimate a Pareto index


from ..errors import ExperienceError  # noqa: E402  (re-exported: its old home)


# --------------------------------------------------------------------------- reading and checking
def _read(source, what: str) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        return source.copy(), f"<{what} DataFrame>"
    path = Path(source)
    if not path.is_file():
        raise ExperienceError(f"{path}: no such {what} file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path), str(path)
        return pd.read_csv(path), str(path)
    except Exception as err:  # pandas/pyarrow raise many types; the user needs the file and the reason
        raise ExperienceError(f"{path}: cannot read as {'parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'CSV'}: {err}") from None


def _require(df: pd.DataFrame, columns, name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ExperienceError(f"{name}: missing column(s) {missing}; expected columns {list(columns)} "
                              f"(got {list(df.columns)})")


def _bad(name: str, column: str, df: pd.DataFrame, mask, expected: str) -> None:
    mask = np.asarray(mask, bool)
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        raise ExperienceError(f"{name}: column '{column}': {int(mask.sum())} row(s) invalid, first at data row {i + 1} "
                              f"(got {_show(df[column].iloc[i])}); expected {expected}")


def _show(value) -> str:
    """A cell value as the user wrote it: plain Python, never a numpy repr such as ``np.float64(-100.0)``."""
    return repr(value.item() if hasattr(value, "item") else value)


def _numeric(df: pd.DataFrame, column: str, name: str) -> np.ndarray:
    x = pd.to_numeric(df[column], errors="coerce").to_numpy(float)
    _bad(name, column, df, ~np.isfinite(x), "a finite number")
    return x


def _categories(df: pd.DataFrame, column: str, name: str, allowed) -> np.ndarray:
    values = df[column].astype(str).str.strip()
    _bad(name, column, df, ~values.isin(list(allowed)), f"one of {list(allowed)}")
    return values.to_numpy()


def read_claims(source) -> pd.DataFrame:
    """Read and check a claims file (or DataFrame); returns a clean frame with ``female`` and ``band`` added."""
    df, name = _read(source, "claims")
    _require(df, CLAIMS_COLUMNS, name)
    if len(df) == 0:
        raise ExperienceError(f"{name}: no rows; expected one row per episode")
    _bad(name, "person_id", df, df["person_id"].isna(), "a person id in every row")
    age = _numeric(df, "age", name)
    _bad(name, "age", df, (age < 0) | (age > 120), "an age in years between 0 and 120")
    sex = _categories(df, "sex", name, _SEX)
    scheme = _categories(df, "scheme", name, SCHEMES)
    level = _categories(df, "level", name, LEVELS)
    cost = _numeric(df, "cost", name)
    _bad(name, "cost", df, cost <= 0, "a cost in yuan > 0")
    compliant = _numeric(df, "compliant", name)
    _bad(name, "compliant", df, (compliant < 0) | (compliant > cost * (1 + 1e-9) + 0.01),
         "a compliant cost in yuan between 0 and the row's cost")
    basic = _numeric(df, "basic_paid", name)
    _bad(name, "basic_paid", df, (basic < 0) | (basic > compliant * (1 + 1e-9) + 0.01),
         "a basic payment in yuan between 0 and the row's compliant cost")
    stream = df["stream"].astype(str).to_numpy() if "stream" in df.columns else np.full(len(df), "admissions")
    band = tables.utilisation_band(age)
    return pd.DataFrame({
        "person_id": df["person_id"].to_numpy(), "stream": stream, "band": band,
        "female": np.array([_SEX[s] for s in sex]), "scheme": scheme, "level": level,
        "cost": cost, "compliant": compliant, "basic_paid": basic,
    })


def read_enrolment(source) -> pd.DataFrame:
    """Read and check an enrolment table; returns insured by (band index, female, scheme), summed over duplicates."""
    df, name = _read(source, "enrolment")
    _require(df, ENROLMENT_COLUMNS, name)
    band = _categories(df, "age_band", name, BANDS)
    sex = _categories(df, "sex", name, _SEX)
    scheme = _categories(df, "scheme", name, SCHEMES)
    insured = _numeric(df, "insured", name)
    _bad(name, "insured", df, insured < 0, "insured person-years >= 0")
    out = pd.DataFrame({"band": [BANDS.index(b) for b in band], "female": [_SEX[s] for s in sex],
                        "scheme": scheme, "insured": insured})
    out = out.groupby(["band", "female", "scheme"], as_index=False)["insured"].sum()
    have = set(out.loc[out.insured > 0, "band"])
    missing = [BANDS[b] for b in range(len(BANDS)) if b not in have]
    if missing:
        raise ExperienceError(f"{name}: column 'age_band': no insured in band(s) {missing}; every band "
                              f"{list(BANDS)} needs exposure to fit episodes_by_age")
    return out
