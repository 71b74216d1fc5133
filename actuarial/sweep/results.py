"""A sweep's tidy results (one row per point and metric, with SEs), read back from its directory,
as tables, plots and JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import write_new
from ..errors import SweepError
from ..results.plots import _axes
from .definition import Sweep
from .store import SweepStore


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class SweepResult:
    """The tidy results of a sweep: one row per point × metric (``estimate`` and its ``se``).

    Units are the metrics' own: yuan per person-year for ``*_per_capita`` and
    ``break_even_premium``, fractions for ratios, counts per 10,000 insured for ``*_per_10k``.
    """

    sweep: Sweep
    table: pd.DataFrame

    @classmethod
    def from_dir(cls, directory: str | Path) -> "SweepResult":
        """Re-open the results in a sweep output directory (the points finished so far).

        >>> res = SweepResult.from_dir("provincial_tornado-sweep")   # doctest: +SKIP
        """
        directory = Path(directory)
        try:
            manifest = json.loads((directory / "sweep.json").read_text(encoding="utf-8"))
            definition = {k: v for k, v in manifest["sweep"].items() if k != "format"}
        except (OSError, ValueError, KeyError) as err:
            raise SweepError(f"{directory}: not a readable sweep output directory ({err})") from None
        sweep = Sweep.model_validate({**definition, "source": manifest.get("source", str(directory))})
        store = SweepStore(directory, sweep)
        frames = store.verified(reject=False)  # a part that cannot prove its point is an error, not a row
        if not frames:
            raise SweepError(f"{directory}: no finished points yet")
        return cls(sweep, pd.concat([frames[i] for i in sorted(frames)], ignore_index=True))

    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.sweep.parameters]

    def wide(self, value: str = "estimate") -> pd.DataFrame:
        """One row per point, one column per metric (``value`` = 'estimate' or 'se')."""
        index = [c for c in self.table.columns if c not in ("metric", "estimate", "se")]
        points = self.table.drop_duplicates("point")[index]
        values = self.table.pivot(index="point", columns="metric", values=value)
        return points.join(values, on="point")[index + list(self.sweep.outputs)].reset_index(drop=True)

    def to_dict(self) -> dict:
        """The sweep's definition and its tidy rows (point, parameters, metric, estimate, se), JSON-ready."""
        return {"sweep": self.sweep.definition(), "rows": self.table.to_dict("records")}

    def plot(self, metric: str | None = None, ax=None):
        """The natural chart: a tornado for a tornado sweep, a heat map for two parameters, otherwise the
        metric (± 1.96 SE) against the first parameter."""
        names = self.parameter_names
        if self.sweep.design == "tornado":
            return self.plot_tornado(metric, ax=ax)
        if len(names) == 2:
            return self.plot_heatmap(names[0], names[1], metric, ax=ax)

        metric = self._metric(metric)
        ax = _axes(ax)
        t = self.table[self.table.metric == metric].sort_values(names[0])
        ax.errorbar(t[names[0]], t["estimate"], yerr=1.96 * t["se"], fmt="o", ms=3, capsize=2)
        ax.set_xlabel(names[0])
        ax.set_ylabel(metric)
        return ax

    def summary(self) -> pd.DataFrame:
        """Points with each metric as 'estimate' and 'metric_se' columns."""
        est, se = self.wide("estimate"), self.wide("se")
        for m in self.sweep.outputs:
            est[f"{m}_se"] = se[m]
        return est

    def tornado(self, metric: str | None = None) -> pd.DataFrame:
        """For a tornado sweep: per parameter the metric at low, base and high, sorted by swing.

        Under common random numbers the differences to base are far more precise
        than the per-point ``se`` suggests (the same draws are reused).
        """
        metric = self._metric(metric)
        if self.sweep.design != "tornado":
            raise ValueError(f"tornado() needs a tornado sweep (this one is '{self.sweep.design}')")
        t = self.table[self.table.metric == metric]
        base = t[t.side == "base"].iloc[0]
        rows = []
        for p in self.sweep.parameters:
            lo = t[(t.varied == p.name) & (t.side == "low")].iloc[0]
            hi = t[(t.varied == p.name) & (t.side == "high")].iloc[0]
            rows.append({"parameter": p.name, "mode": p.mode, "low": p.low, "high": p.high,
                         "low_estimate": lo.estimate, "base_estimate": base.estimate, "high_estimate": hi.estimate,
                         "low_se": lo.se, "base_se": base.se, "high_se": hi.se,
                         "swing": abs(hi.estimate - lo.estimate)})
        return pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)

    def _metric(self, metric: str | None) -> str:
        metric = metric or self.sweep.outputs[0]
        if metric not in self.sweep.outputs:
            raise ValueError(f"metric '{metric}' was not swept; choose from {list(self.sweep.outputs)}")
        return metric

    def plot_tornado(self, metric: str | None = None, ax=None, whiskers: bool = False):
        """Tornado chart (matplotlib): bars from the base value to the low / high results.

        ``whiskers`` draws ±1.96 × each point's SE; under common random numbers
        that overstates the uncertainty of the bars' lengths (the differences), so it is off by default.
        """
        import matplotlib.pyplot as plt

        metric = self._metric(metric)
        t = self.tornado(metric).iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.5 * len(t) + 1.5))
        base = t.base_estimate.iloc[0]
        y = np.arange(len(t))
        for side, colour in (("low", "tab:blue"), ("high", "tab:red")):
            v = t[f"{side}_estimate"].to_numpy()
            ax.barh(y, v - base, left=base, color=colour, alpha=0.75, label=side)
            if whiskers:
                ax.errorbar(v, y, xerr=1.96 * t[f"{side}_se"].to_numpy(), fmt="none", ecolor="k", lw=0.8)
        ax.axvline(base, color="k", lw=1)
        labels = [f"{r.parameter} ({_fmt(r.low)} / {_fmt(r.high)})" for r in t.itertuples()]
        ax.set_yticks(y, labels)
        ax.set_xlabel(metric)
        ax.set_title(f"{self.sweep.base.programme.name}: sensitivity of {metric}")
        ax.legend(loc="lower right")
        return ax

    def plot_heatmap(self, x: str, y: str, metric: str | None = None, ax=None):
        """Heat map of ``metric`` over parameters ``x`` and ``y`` (mean over any other parameters)."""
        import matplotlib.pyplot as plt

        metric = self._metric(metric)
        for name in (x, y):
            if name not in self.parameter_names:
                raise ValueError(f"'{name}' is not a parameter of this sweep ({self.parameter_names})")
        t = self.table[self.table.metric == metric]
        grid = t.pivot_table(index=y, columns=x, values="estimate", aggfunc="mean")
        if ax is None:
            _, ax = plt.subplots(figsize=(1.1 * grid.shape[1] + 2.5, 0.6 * grid.shape[0] + 2))
        im = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(grid.shape[1]), [_fmt(v) for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [_fmt(v) for v in grid.index])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        values = grid.to_numpy()
        mid = np.nanmin(values) + 0.6 * (np.nanmax(values) - np.nanmin(values))
        for (i, j), v in np.ndenumerate(values):  # dark text on the light (high) end of viridis
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", color="k" if v > mid else "w", fontsize=8)
        ax.figure.colorbar(im, ax=ax, label=metric)
        ax.set_title(metric)
        return ax

    def to_parquet(self, path: str | Path) -> None:
        """Write the tidy table (never overwrites)."""
        write_new(path, lambda p: self.table.to_parquet(p, index=False))  # complete or absent

    def _repr_html_(self) -> str:
        sw = self.sweep
        head = (f"<b>Sweep ({sw.design})</b> of {sw.base.programme.name}: {self.table.point.nunique()} points × "
                f"{sw.years} simulated years, seed {sw.seed}{' (common random numbers)' if sw.crn else ''}")
        return head + self.summary().to_html(index=False, float_format=lambda v: f"{v:,.4g}")


def _fmt(v: float) -> str:
    return f"{v:,.6g}" if math.isfinite(v) else str(v)
