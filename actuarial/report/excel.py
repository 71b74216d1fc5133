"""Excel workbooks (.xlsx) of any command's tables: one sheet per table, units in the headers, a sheet of inputs.

Owns the workbook layout only (pandas + openpyxl); the tables come from the commands
(``run``, ``calibrate``, ``compare``, ``sweep``: ``--format xlsx --out FILE.xlsx``) and the
bid report (``report --xlsx FILE.xlsx``). Numbers are written as numbers at full precision
(a float read back is the same float), so a workbook matches the JSON of the same run to the
last digit. A header is the column's name and its unit, ``fund_outlay_per_capita [yuan per
insured person-year]``; a long table with a ``metric`` column gets a ``unit`` column instead.
Nothing is overwritten.

>>> column_unit("fund_outlay_per_capita_se"), column_unit("beneficiaries_per_10k"), column_unit("loss_ratio")
('yuan per insured person-year', 'per 10,000 insured', 'fraction')
>>> column_unit("metrics.claims_per_capita.se"), column_unit("terms.contract.combined_fee_rate_percent")
('yuan per insured person-year', '%')
"""

from __future__ import annotations

import io
import json
import math
import re
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..atomic import write_new
from ..errors import UserError

YUAN = "yuan per insured person-year"
_EXACT_UNITS = {
    "premium": YUAN, "current_premium": YUAN, "break_even_premium": YUAN, "benefit_per_beneficiary": "yuan per beneficiary",
    "deductible": "yuan per person-year", "cap": "yuan per person-year", "score": "points, 0-100",
    "insured": "persons", "people": "persons", "years": "simulated years", "rank": "1 = best",
    "combined_fee_rate": "fraction", "insurer_margin": "fraction", "loss_ratio": "fraction",
}


def column_unit(name: str) -> str | None:
    """The unit of a column or metric named by the project's conventions (None when it has none)."""
    parts = [p for p in str(name).split(".") if p not in ("estimate", "se", "ci95", "value")]
    name = re.sub(r"_(se|ci95_low|ci95_high|estimate)$", "", parts[-1] if parts else str(name))
    if name in _EXACT_UNITS:
        return _EXACT_UNITS[name]
    if name.endswith("_per_10k"):
        return "per 10,000 insured"
    if name.endswith("_percent"):
        return "%"
    if "per_capita" in name:
        return YUAN
    if name.startswith("prob_") or name.endswith("_ratio") or name.endswith("_share"):
        return "fraction"
    return None


def with_units(frame: pd.DataFrame) -> pd.DataFrame:
    """Headers with units (``name [unit]``); a ``metric`` column gets a ``unit`` column beside it."""
    frame = frame.copy()
    if "metric" in frame.columns and "unit" not in frame.columns:
        frame.insert(list(frame.columns).index("metric") + 1, "unit",
                     [column_unit(m) or "" for m in frame["metric"]])
        return frame
    return frame.rename(columns={c: f"{c} [{column_unit(c)}]" for c in frame.columns if column_unit(c)})


def _cell(v):
    """Workbook-ready value: numbers stay numbers (non-finite as text), lists and dicts as JSON text."""
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, ensure_ascii=False, default=str)
    return v


def flatten(obj, prefix: str = "") -> list[tuple[str, object]]:
    """Nested dicts as (dotted path, value) rows; lists of scalars stay one value."""
    if hasattr(obj, "model_dump"):
        obj = obj.model_dump(mode="python")
    if isinstance(obj, dict):
        rows = []
        for k, v in obj.items():
            rows += flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return rows
    if isinstance(obj, (list, tuple)) and any(isinstance(v, dict) or hasattr(v, "model_dump") for v in obj):
        rows = []
        for i, v in enumerate(obj):
            rows += flatten(v, f"{prefix}.{i}")
        return rows
    return [(prefix, obj)]


def _sheet_name(name: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", str(name))[:31] or "sheet"
    out, i = base, 1
    while out in taken:
        i += 1
        out = f"{base[:28]}_{i}"
    taken.add(out)
    return out


@contextmanager
def _full_precision():
    """Floats written so they read back as the same float.

    openpyxl writes numbers with 16 significant digits ("%.16g"), which does not round-trip every
    double (53.070771064987106 becomes 53.07077106498711); Python's float repr does. The hook is
    openpyxl's private cell writer, so where it is missing the numbers keep 16 digits (and the
    workbook test fails, saying so).
    """
    try:
        from openpyxl.cell import _writer
    except ImportError:  # pragma: no cover - another openpyxl layout
        yield
        return
    original = getattr(_writer, "safe_string", None)
    if original is None:  # pragma: no cover
        yield
        return

    def safe_string(value):
        if isinstance(value, float) and math.isfinite(value):
            return float.__repr__(float(value))
        return original(value)

    _writer.safe_string = safe_string
    try:
        yield
    finally:
        _writer.safe_string = original


def workbook_bytes(tables: dict[str, pd.DataFrame], inputs=None, settings: dict | None = None) -> bytes:
    """An .xlsx file's bytes: one sheet per table (units in headers), then ``inputs`` (a scenario or a dict,
    flattened to field / value rows with ``settings`` first)."""
    from .. import __version__

    buf = io.BytesIO()
    taken: set[str] = set()
    with _full_precision(), pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, frame in tables.items():
            shown = with_units(frame).map(_cell) if len(frame) else with_units(frame)
            shown.to_excel(xw, sheet_name=_sheet_name(name, taken), index=False)
        rows = [("actuarial version", __version__)] + list((settings or {}).items())
        if inputs is not None:
            rows += flatten(inputs)
        pd.DataFrame([(k, _cell(v)) for k, v in rows], columns=["field", "value"]).to_excel(
            xw, sheet_name=_sheet_name("inputs", taken), index=False)
        for sheet in xw.book.worksheets:  # readable widths; the values are untouched
            for col in sheet.columns:
                width = max(len(str(c.value)) if c.value is not None else 0 for c in col[:200])
                sheet.column_dimensions[col[0].column_letter].width = min(max(10, width + 2), 60)
    return buf.getvalue()


def write_workbook(path: str | Path, tables: dict[str, pd.DataFrame], inputs=None, settings: dict | None = None) -> Path:
    """Write :func:`workbook_bytes` to ``path``; refuses to overwrite an existing file."""
    path = Path(path)
    data = workbook_bytes(tables, inputs, settings)
    try:
        write_new(path, data)
    except FileExistsError:
        raise FileExistsError(f"{path}: already exists; choose another file (nothing was overwritten)") from None
    return path


def payload_tables(payload: dict, table: pd.DataFrame, name: str = "table") -> dict[str, pd.DataFrame]:
    """A command's tables: its printed ``table``, then each list of records in its JSON ``payload``
    (flattened: ``metrics.claims_per_capita.estimate`` ...)."""
    tables = {name: table}
    for key, value in payload.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables[key] = pd.DataFrame([dict(flatten(v)) for v in value])
    return tables


def write_xlsx(out: str | Path | None, payload: dict, table: pd.DataFrame, inputs=None, name: str = "table") -> None:
    """``--format xlsx``: the command's tables and inputs as a workbook at ``out`` (the hook of ``cli.emit``)."""
    import sys


    if not out:
        raise UserError("--format xlsx writes a workbook: give --out FILE.xlsx")
    settings = {k: v for k, v in payload.items() if not isinstance(v, (list, dict))}
    try:
        write_workbook(out, payload_tables(payload, table, name), inputs, settings)
    except FileExistsError as err:
        raise UserError(str(err)) from None
    print(f"wrote {out}", file=sys.stderr)
