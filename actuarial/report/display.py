"""How numbers and labels look in reports and workbooks: one home for the display rules.

Owns the house formats of committee documents (yuan to 2 decimals, percentages as
"%", counts per 10,000 to 1 decimal, every estimate with ± its 95 % half-width), the
choice of language for headings and chart labels (``zh``, ``en`` or ``both``, Chinese
first), and the CJK font that lets matplotlib draw Chinese. It computes nothing.

>>> yuan(1234.5), percent(0.2412), per_10k(64.26), pm(24.6358, 0.7235, "yuan")
('1,234.50', '24.12 %', '64.3', '24.64 ± 1.42')
>>> label("起付线", "Deductible", "both"), label("起付线", "Deductible", "en")
('起付线 Deductible', 'Deductible')
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

Z95 = 1.959963984540054
LANGS = ("zh", "en", "both")
"""Languages of a report: Chinese only, English only, or both (Chinese first)."""


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def yuan(v: float) -> str:
    """Money in yuan, 2 decimals with thousands separators; '—' when not a number."""
    return f"{float(v):,.2f}" if _finite(v) else "—"


def percent(v: float, digits: int = 2) -> str:
    """A fraction shown as a percentage (0.2412 → '24.12 %')."""
    return f"{100 * float(v):.{digits}f} %" if _finite(v) else "—"


def per_10k(v: float) -> str:
    """A count per 10,000 insured, 1 decimal."""
    return f"{float(v):,.1f}" if _finite(v) else "—"


FORMATS = {"yuan": yuan, "percent": percent, "per_10k": per_10k}
"""Unit → formatter of a value in that unit (yuan; fraction shown as %; count per 10,000)."""


def pm(value: float, se: float, unit: str) -> str:
    """An estimate with ± its 95 % half-width (1.96 × SE), both in the unit's format.

    ``unit`` is ``yuan``, ``percent`` (a fraction) or ``per_10k``; a NaN SE (e.g. a quantile from too few
    simulated years) shows as ``± —``.
    """
    fmt = FORMATS[unit]
    if not _finite(se):
        return f"{fmt(value)} ± —" if _finite(value) else fmt(value)
    half = Z95 * float(se)
    shown = fmt(half).replace(" %", "") if unit == "percent" else fmt(half)
    return f"{fmt(value).replace(' %', '')} ± {shown}{' %' if unit == 'percent' else ''}"


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {list(LANGS)} (got {lang!r})")
    return lang


def label(zh: str, en: str, lang: str) -> str:
    """A label in the report's language: Chinese, English, or both (Chinese first)."""
    check_lang(lang)
    return zh if lang == "zh" else en if lang == "en" else f"{zh} {en}"


# --------------------------------------------------------------------------- CJK font for matplotlib
CJK_FONT_NAMES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans SC", "Source Han Sans SC",
                  "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
                  "Heiti SC", "Droid Sans Fallback", "AR PL UMing CN")
"""Fonts with Chinese glyphs, preferred first (Debian/Ubuntu: ``apt-get install fonts-noto-cjk``)."""


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of an installed font matplotlib can draw Chinese with, or None.

    Looks the names of :data:`CJK_FONT_NAMES` up in ``matplotlib.font_manager``'s font list.
    """
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONT_NAMES if name in installed), None)


def chart_lang(lang: str) -> str:
    """The language charts can use: ``lang``, or ``en`` with a warning when no CJK font is installed."""
    check_lang(lang)
    if lang != "en" and cjk_font() is None:
        warnings.warn("no font with Chinese glyphs found for matplotlib (install fonts-noto-cjk); "
                      "chart labels fall back to English", stacklevel=2)
        return "en"
    return lang


def chart_rc(lang: str) -> dict:
    """matplotlib rc settings for charts in ``lang`` (the CJK font first when Chinese is drawn)."""
    if lang == "en" or cjk_font() is None:
        return {}
    # Concrete family names (not the generic 'sans-serif'): texts keep them when the figure is saved later.
    return {"font.family": [cjk_font(), "DejaVu Sans"], "axes.unicode_minus": False}
