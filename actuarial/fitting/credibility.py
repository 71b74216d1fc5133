"""Bühlmann–Straub credibility (信度理论): how much a pool's own experience should move its price.

Experience pricing and dynamic repricing blend a pool's observed loss ratio with
the collective (the tender's pricing or the province's mean). A fixed weight
says nothing about how informative the experience is; Bühlmann–Straub
estimates it from the data: with loss ratios X_ij of pool i in year j and
weights w_ij (premium or insured person-years),

* within-pool (year-to-year) variance, the expected process variance
  s² = Σ_i Σ_j w_ij (X_ij − X̄_i)² / Σ_i (n_i − 1);
* between-pool variance of the pools' true means, the variance of hypothetical
  means a = (Σ_i w_i (X̄_i − X̄)² − (r − 1) s²) / (w − Σ_i w_i² / w), floored at 0;
* k = s² / a and the credibility of pool i, Z_i = w_i / (w_i + k);
* the credibility estimate Z_i X̄_i + (1 − Z_i) μ, with μ the Z-weighted mean of
  the pools (or a given collective, e.g. the priced loss ratio).

X̄_i and X̄ are weighted means; n_i counts the pool's observed years and r the
pools. With a = 0 (no detectable difference between pools) every Z is 0: the
experience is noise around the collective. This module owns the estimator; it
does not simulate.

Hand-worked example (two pools, two years, unit weights): pool A 0.8, 1.0; pool B
1.2, 1.4. X̄_A = 0.9, X̄_B = 1.3, X̄ = 1.1; s² = (0.01 + 0.01 + 0.01 + 0.01) / 2 =
0.02; a = (2·0.04 + 2·0.04 − 0.02) / (4 − 8/4) = 0.07; k = 2/7; Z = 2 / (2 + 2/7) = 0.875.

>>> import numpy as np
>>> c = buhlmann_straub(np.array([[0.8, 1.0], [1.2, 1.4]]), np.ones((2, 2)))
>>> round(c.epv, 4), round(c.vhm, 4), c.z.round(4).tolist()
(0.02, 0.07, [0.875, 0.875])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Credibility:
    """Bühlmann–Straub credibility of each pool, with the inputs that give it.

    ``z``: credibility per pool (fraction); ``epv`` (s²) and ``vhm`` (a): the variance
    components, in the squared unit of the values (weight-scaled); ``k`` = epv / vhm (inf when
    vhm = 0); ``pool_mean``: weighted mean per pool; ``weight``: total weight per pool;
    ``collective``: μ; ``estimate``: Z·pool_mean + (1 − Z)·μ per pool.
    """

    z: np.ndarray
    epv: float
    vhm: float
    k: float
    pool_mean: np.ndarray
    weight: np.ndarray
    collective: float
    estimate: np.ndarray
    pools: tuple = ()

    def table(self) -> pd.DataFrame:
        """One row per pool: weight, observed mean, Z, credibility estimate; EPV, VHM and k in the attrs."""
        t = pd.DataFrame({"pool": list(self.pools) or list(range(len(self.z))), "weight": self.weight,
                          "observed": self.pool_mean, "z": self.z, "estimate": self.estimate})
        t.attrs.update(epv=self.epv, vhm=self.vhm, k=self.k, collective=self.collective)
        return t


def buhlmann_straub(values, weights, collective: float | None = None, pools=()) -> Credibility:
    """Bühlmann–Straub credibility from a (pools × years) array of values and weights.

    Parameters
    ----------
    values : e.g. loss ratios (fractions) or claims per capita (yuan); NaN where a pool has no year.
    weights : the same shape, > 0 where a value is given (premium in yuan, or insured person-years).
    collective : μ, the value the experience is credited against (default: the Z-weighted mean).
    pools : optional labels of the rows.

    Needs at least two pools and one pool with two years; raises ValueError otherwise.
    """
    x = np.asarray(values, float)
    w = np.where(np.isfinite(x), np.asarray(weights, float), 0.0)
    if x.ndim != 2 or x.shape != w.shape:
        raise ValueError(f"values and weights must be (pools x years) arrays of one shape (got {x.shape}, {w.shape})")
    if np.any(w < 0):
        raise ValueError("weights must be >= 0")
    x = np.where(w > 0, x, 0.0)
    n = (w > 0).sum(axis=1)
    keep = n > 0
    x, w, n = x[keep], w[keep], n[keep]
    r = x.shape[0]
    if r < 2 or not np.any(n >= 2):
        raise ValueError(f"Bühlmann–Straub needs >= 2 pools and a pool with >= 2 years (got {r} pools, "
                         f"at most {int(n.max()) if r else 0} years)")
    wi = w.sum(axis=1)
    xi = (w * x).sum(axis=1) / wi
    wt = wi.sum()
    xbar = float(wi @ xi / wt)
    epv = float((w * (x - xi[:, None]) ** 2).sum() / (n - 1).clip(min=0).sum())
    vhm = float(max((wi @ (xi - xbar) ** 2 - (r - 1) * epv) / (wt - (wi**2).sum() / wt), 0.0))
    k = math.inf if vhm == 0 else epv / vhm
    z = np.zeros(r) if vhm == 0 else wi / (wi + k)
    mu = float(collective if collective is not None else (z @ xi / z.sum() if z.sum() > 0 else xbar))
    labels = tuple(np.asarray(pools, dtype=object)[keep]) if len(pools) else ()
    return Credibility(z, epv, vhm, k, xi, wi, mu, z * xi + (1 - z) * mu, labels)


def experience_credibility(table: pd.DataFrame, value: str = "loss_ratio", weight: str = "premium",
                           collective: float | None = None) -> Credibility:
    """:func:`buhlmann_straub` from a long table with columns ``pool``, ``year``, ``value`` and ``weight``.

    >>> t = pd.DataFrame({"pool": ["A", "A", "B", "B"], "year": [1, 2, 1, 2],
    ...                   "loss_ratio": [0.8, 1.0, 1.2, 1.4], "premium": [1.0] * 4})
    >>> experience_credibility(t).table().z.round(3).tolist()
    [0.875, 0.875]
    """
    missing = [c for c in ("pool", "year", value, weight) if c not in table.columns]
    if missing:
        raise ValueError(f"experience table: missing column(s) {missing} (got {list(table.columns)})")
    xv = table.pivot_table(index="pool", columns="year", values=value, aggfunc="first", sort=True)
    wv = table.pivot_table(index="pool", columns="year", values=weight, aggfunc="first", sort=True).reindex_like(xv)
    return buhlmann_straub(xv.to_numpy(float), wv.fillna(0).to_numpy(float), collective, tuple(xv.index))
