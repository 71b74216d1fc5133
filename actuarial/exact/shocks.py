"""Year shocks in the exact pool law (系统性冲击): quadrature over the frequency and severity multipliers.

A year's multipliers are lognormal with mean 1 (:func:`actuarial.model.claims.factors_at` of two independent
standard normals ``z = (z_f, z_s)``). Given ``z`` the pool's annual claims have the exact law of
:func:`actuarial.exact.pool.conditional_pool`; unconditionally they are the mixture over ``z``.

A plain Gauss–Hermite mixture puts a handful of narrow conditional laws side by side: at 5M insured the
conditional sd (~0.25 yuan per capita) is far below the spacing of the nodes' means (several yuan), so its
quantiles would be a staircase. Instead:

1. the conditional law is computed exactly at the ``nodes × nodes`` Gauss–Hermite nodes;
2. the conditional mean ``μ(z)`` (smooth in z) is interpolated through the nodes — a polynomial in each
   normal of log μ, continued beyond the outer nodes along the secant of the last two — on a dense grid of ``z`` (weights from the
   normal density, |z| ≤ 7);
3. each dense point carries the law of its nearest node, centred, placed at its own ``μ(z)``.

So the mixture is smooth, its location is spectrally accurate and only the *shape* (spread, skew) of the
conditional law is held constant within a node's cell. ``shock_error`` on the result is the gap between the
Gauss–Hermite mean ``Σ w_k μ(z_k)`` and the mixture's mean (yuan per capita): a check of step 2.

>>> from actuarial import load_scenario
>>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{
...     "population.size": 100_000, "basic.annual_cap": 1e9, "claims.shocks.frequency_sd": 0.1})
>>> d = pool_distribution(sc, nodes=5)
>>> d.nodes, round(d.mean(), 1), d.shock_error < 0.01
(5, 15.9, True)
"""

from __future__ import annotations


import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from ..model.claims import factors_at
from .pool import POINTS, PoolDistribution, cell_counts, conditional_pool
from ..scenario import Scenario

Z_MAX = 7.0
"""The dense shock grid covers |z| ≤ 7 in each normal (mass beyond: 2.6·10⁻¹² per normal, added to ``aliasing``)."""


def _gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = hermegauss(n)
    return x, w / w.sum()


def _lagrange(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(len(z), len(x)) Lagrange basis through nodes ``x`` at ``z``, continued linearly beyond the outer nodes."""
    def basis(t: np.ndarray) -> np.ndarray:
        out = np.ones((t.size, x.size))
        for k in range(x.size):
            for m in range(x.size):
                if m != k:
                    out[:, k] *= (t - x[m]) / (x[k] - x[m])
        return out

    if x.size == 1:
        return np.ones((z.size, 1))
    lo, hi = x.min(), x.max()
    inner = np.clip(z, lo, hi)
    out = basis(inner)
    order = np.argsort(x)  # beyond the outer nodes: the secant through the last two (a polynomial's end
    eye = np.eye(x.size)    # slope can be wild, and the far tails weigh little but reach far)
    slope_hi = ((eye[order[-1]] - eye[order[-2]]) / (x[order[-1]] - x[order[-2]]))[None, :]
    slope_lo = ((eye[order[1]] - eye[order[0]]) / (x[order[1]] - x[order[0]]))[None, :]
    out += np.where((z > hi)[:, None], (z - hi)[:, None] * slope_hi, 0.0)
    out += np.where((z < lo)[:, None], (z - lo)[:, None] * slope_lo, 0.0)
    return out


def _split(values: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """Mass ``weights`` at real lattice positions ``values`` split between neighbours (mean-preserving),
    positions taken modulo ``size`` (a centred law wraps its negative offsets to the end)."""
    j = np.floor(values).astype(np.int64)
    frac = values - j
    return (np.bincount(j % size, weights=weights * (1 - frac), minlength=size)
            + np.bincount((j + 1) % size, weights=weights * frac, minlength=size))


def pool_distribution(scenario: Scenario, counts: np.ndarray | None = None, *, nodes: int = 5, points: int = POINTS,
                      dense: int | None = None, step: float | None = None, progress: bool = False) -> PoolDistribution:
    """The pool's annual CII claims law over the year shocks (exact per node; see the module docstring).

    Without shocks this is :func:`actuarial.exact.pool.conditional_pool`. ``nodes`` Gauss–Hermite nodes per
    shocked normal; ``dense`` points per normal of the location grid (default 801 for two shocks,
    20,001 for one).
    """
    shocks = scenario.claims.shocks
    counts = cell_counts(scenario) if counts is None else np.asarray(counts, np.int64)
    if not shocks.enabled:
        return conditional_pool(scenario, counts, points=points, step=step)
    if nodes < 2:
        raise ValueError(f"nodes must be >= 2 (got {nodes})")
    dims = [shocks.frequency_sd > 0, shocks.severity_sd > 0]
    xf, wf = _gauss_hermite(nodes) if dims[0] else (np.zeros(1), np.ones(1))
    xs, ws = _gauss_hermite(nodes) if dims[1] else (np.zeros(1), np.ones(1))
    cache: dict = {}
    conds = []
    from tqdm import tqdm

    with tqdm(total=xf.size * xs.size, desc="shock nodes", disable=not progress) as bar:
        for zf in xf:
            row = []
            for zs in xs:
                row.append(conditional_pool(scenario, counts, factors_at(scenario, zf, zs), points=points, step=step,
                                            cache=cache))
                bar.update()
            conds.append(row)
    insured = int(counts.sum())
    mu = np.array([[c.origin + c.step * (c.pmf @ np.arange(c.pmf.size)) for c in row] for row in conds])
    gh_mean = float(wf @ mu @ ws)

    n_dense = dense or (801 if all(dims) else 20_001)
    grids = []
    for on, x in ((dims[0], xf), (dims[1], xs)):
        if on:
            z = np.linspace(-Z_MAX, Z_MAX, n_dense)
            w = np.exp(-z * z / 2)
            grids.append((z, w / w.sum(), _lagrange(x, z), np.abs(z[:, None] - x[None, :]).argmin(axis=1)))
        else:
            grids.append((np.zeros(1), np.ones(1), np.ones((1, 1)), np.zeros(1, np.int64)))
    (zf_d, wf_d, lf, nf), (zs_d, ws_d, ls, ns) = grids
    log_mu = np.log(np.maximum(mu, 1e-300))
    mu_dense = np.exp(lf @ log_mu @ ls.T)  # (dense f, dense s)
    weight = np.outer(wf_d, ws_d)
    owner = nf[:, None] * xs.size + ns[None, :]  # node index of each dense point

    flat = [c for row in conds for c in row]
    lows = np.array([c.origin for c in flat]) - mu.ravel()
    highs = np.array([c.origin + c.step * (c.pmf.size - 1) for c in flat]) - mu.ravel()
    lo = (float(min(mu_dense[owner == k].min() + lows[k] for k in range(len(flat)) if (owner == k).any())))
    hi = float(max(mu_dense[owner == k].max() + highs[k] for k in range(len(flat)) if (owner == k).any()))
    h = (hi - lo) / (points - 2)
    total = np.zeros(points // 2 + 1, complex)
    lattice_var = 0.0
    for k, c in enumerate(flat):
        sel = owner == k
        if not sel.any():
            continue
        where = (mu_dense[sel] - lo) / h
        hist = _split(where, weight[sel], points)
        offset = (c.origin - mu.ravel()[k] + c.step * np.arange(c.pmf.size)) / h  # centred, in output steps
        centred = _split(np.mod(offset, points), c.pmf, points)
        total += np.fft.rfft(hist) * np.fft.rfft(centred)
        lattice_var = max(lattice_var, c.lattice_variance)
    pmf = np.maximum(np.fft.irfft(total, points), 0.0)
    # A small pool's law shifted to a lower mean can reach below 0 (claims cannot): that mass goes to 0.
    below = lo + h * np.arange(points) < 0
    if below.any():
        first = int(np.argmin(below))
        pmf[first] += pmf[below].sum()
        pmf[below] = 0.0
    pmf /= pmf.sum()
    alias = max(c.aliasing for c in flat) + 2 * sum(dims) * 1.3e-12
    out = PoolDistribution(lo, h, pmf, insured, alias, lattice_var + h * h / 4, flat[0].accumulation_step,
                           max(c.truncated for c in flat), nodes, 0.0,
                           info={"expected_total": gh_mean, "node_means_per_capita": (mu / insured).tolist()})
    return PoolDistribution(out.origin, out.step, out.pmf, insured, out.aliasing, out.lattice_variance,
                            out.accumulation_step, out.truncated, nodes, abs(out.mean() - gh_mean / insured), out.info)
