"""Array backends: numpy on the CPU, CuPy on an NVIDIA GPU, behind one array-module switch.

Owns the choice of array module (``xp``) and the few operations whose spelling
differs between numpy and CuPy: moving arrays to the host, the normal
distribution's special functions, and a counter-based random number generator
written only with ``xp`` integer operations, so both backends draw the same
uniforms from the same (key, counters) and no per-block generator objects are
needed. It does not know about the insurance model; :mod:`actuarial.engines.gpu` does.

CuPy is optional: ``pip install -e .[gpu]`` (or ``pip install cupy-cuda12x``)
on a machine with an NVIDIA GPU and CUDA 12.

>>> xp = get_array_module("numpy")
>>> u = uniform(xp, 12345, 7, xp.arange(4))
>>> bool(((u > 0) & (u < 1)).all()), u.shape
(True, (4,))
>>> bool((uniform(xp, 12345, 7, xp.arange(4)) == u).all())   # same key and counters → same numbers
True
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

BACKENDS = ("numpy", "cupy", "auto")
INSTALL_HINT = "install it with `pip install -e .[gpu]` (or `pip install cupy-cuda12x`) on a machine with an NVIDIA GPU"


from .errors import BackendError  # noqa: E402  (re-exported: its old home)


def _cupy() -> ModuleType:
    """CuPy with a usable device, or a BackendError saying what is missing."""
    try:
        import cupy
    except ImportError as e:
        raise BackendError(f"xp='cupy': CuPy is not installed ({e}); {INSTALL_HINT}") from None
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDA driver missing or broken: CuPy raises its own runtime errors
        raise BackendError(f"xp='cupy': CuPy is installed but no CUDA device can be used ({e}); "
                           f"use xp='numpy', or run on a machine with an NVIDIA GPU (and CUDA 12: "
                           f"`pip install -e .[gpu]` there)") from None
    if n < 1:
        raise BackendError("xp='cupy': CuPy is installed but no CUDA device is present; use xp='numpy', "
                           "or run on a machine with an NVIDIA GPU (and CUDA 12: `pip install -e .[gpu]` there)")
    return cupy


def get_array_module(name: str = "auto") -> ModuleType:
    """The array module for ``name``: "numpy", "cupy", or "auto" (CuPy when a GPU is usable, else numpy).

    Raises :class:`BackendError` naming the option and how to install CuPy when "cupy" cannot be used.
    """
    if isinstance(name, ModuleType):
        return name
    if name == "numpy":
        return np
    if name == "cupy":
        return _cupy()
    if name == "auto":
        try:
            return _cupy()
        except BackendError:
            return np
    raise BackendError(f"xp must be one of {', '.join(map(repr, BACKENDS))} (got {name!r})")


def is_cupy(xp: ModuleType) -> bool:
    return xp.__name__ == "cupy"


def to_numpy(x) -> np.ndarray:
    """A host (numpy) copy of ``x``; numpy arrays are returned as they are."""
    if isinstance(x, np.ndarray):
        return x
    get = getattr(x, "get", None)  # cupy.ndarray.get() copies to the host
    return get() if get is not None else np.asarray(x)


def special(xp: ModuleType) -> ModuleType:
    """``scipy.special`` or ``cupyx.scipy.special`` (both have ``ndtr`` and ``ndtri``)."""
    if is_cupy(xp):
        import cupyx.scipy.special as sp
    else:
        import scipy.special as sp
    return sp


def bincount(xp: ModuleType, x, weights=None, minlength: int = 0):
    """``xp.bincount`` that also takes an empty ``x`` (CuPy's takes the maximum of ``x`` first).

    Weighted counts are float64, unweighted int64, on both backends. On CuPy the additions are
    atomic, so weighted sums are reproducible to rounding, not bit for bit.
    """
    if x.shape[0] == 0:
        return xp.zeros(minlength, xp.float64 if weights is not None else xp.int64)
    return xp.bincount(x, weights=weights, minlength=minlength)


# ----------------------------------------------------------------------------- counter-based uniforms
# SplitMix64's increment and finaliser (Steele, Lea & Flood 2014; constants of Stafford's "Mix13").
# uniform(key, c1, c2, ...) = U(mix(...mix(mix(key + (c1+1)·γ) + (c2+1)·γ)...)): a hash of the key and
# the counters, so a draw depends only on what it is for (person, episode, attempt), never on how many
# people are simulated together. Integer ops wrap modulo 2^64 on both numpy and CuPy.
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S12 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(12)
_TWO_M52 = 2.0 ** -52


def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def _u64(xp: ModuleType, c):
    """A counter as uint64: Python ints become numpy scalars, arrays are cast (wrapping negatives)."""
    if isinstance(c, (int, np.integer)):
        return np.uint64(int(c) & 0xFFFFFFFFFFFFFFFF)
    return xp.asarray(c).astype(xp.uint64)


def _hash_body(key, *counters):
    """The hash on uint64 operands; plain ufunc arithmetic, so ``cupy.fuse`` can compile it whole."""
    h = key
    for c in counters:
        h = _mix(h + (c + np.uint64(1)) * _GAMMA)
    return h


def to_unit(h):
    """uint64 → (0, 1): the top 52 bits plus one half, times 2^-52. Every step is exact in float64
    (with 53 bits, 2^53 - 0.5 would round up to 2^53 and give exactly 1), so 0 < u ≤ 1 - 2^-53."""
    return ((h >> _S12) + 0.5) * _TWO_M52


def _uniform_body(key, *counters):
    return to_unit(_hash_body(key, *counters))


def hash64(xp: ModuleType, key: int, *counters):
    """64-bit hash of ``key`` and the counter arrays (broadcast together), as uint64."""
    h = xp.asarray(np.uint64(int(key) & 0xFFFFFFFFFFFFFFFF))
    with np.errstate(over="ignore"):
        return _hash_body(h, *(_u64(xp, c) for c in counters))


def derive_key(key: int, *counters: int) -> int:
    """A sub-key (Python int) for a purpose, year, stream, ... computed on the host."""
    return int(hash64(np, key, *counters))


_FUSED: dict[int, object] = {}
_fusion_failed = False


def _unfused_uniform(xp: ModuleType, key: int, *counters):
    return to_unit(hash64(xp, key, *counters))


def _fused_uniform(xp: ModuleType, arity: int):
    """``_uniform_body`` compiled by ``cupy.fuse`` into one kernel (fixed arity: fuse traces a call).

    Checked bit for bit against the unfused path on first use, so a fusion that typed a constant
    differently can never change the numbers, only fall back.
    """
    if arity not in _FUSED:
        import cupy

        bodies = {1: lambda k, a: _uniform_body(k, a),
                  2: lambda k, a, b: _uniform_body(k, a, b),
                  3: lambda k, a, b, c: _uniform_body(k, a, b, c),
                  4: lambda k, a, b, c, d: _uniform_body(k, a, b, c, d),
                  5: lambda k, a, b, c, d, e: _uniform_body(k, a, b, c, d, e)}
        fused = cupy.fuse(bodies[arity])
        # Calls pass a purpose code as a 0-d array and the rest as 1-d arrays; so does the probe.
        probe = [xp.arange(1000, dtype=xp.int64) * (i + 7) - 3 for i in range(arity)]
        if arity > 1:
            probe[0] = 5
        key = 0xFEDCBA9876543210
        got = fused(np.uint64(key), *(xp.asarray(_u64(xp, c)) for c in probe))
        if not bool((got == _unfused_uniform(xp, key, *probe)).all()):
            raise ArithmeticError("fused uniforms differ from the reference")
        _FUSED[arity] = fused
    return _FUSED[arity]


def uniform(xp: ModuleType, key: int, *counters):
    """Uniforms in the open interval (0, 1), one per element of the broadcast counters (float64).

    On CuPy the hash runs as one fused kernel (about 20 integer operations per draw, otherwise as
    many kernel launches); should ``cupy.fuse`` fail or disagree, it warns once and uses the unfused
    path, which gives the same bits.
    """
    global _fusion_failed
    if is_cupy(xp) and not _fusion_failed and 1 <= len(counters) <= 5:
        try:
            fused = _fused_uniform(xp, len(counters))
            return fused(np.uint64(int(key) & 0xFFFFFFFFFFFFFFFF), *(xp.asarray(_u64(xp, c)) for c in counters))
        except Exception as e:  # a CuPy version whose fuse lacks an operation used here
            import warnings

            warnings.warn(f"cupy.fuse unusable for the uniforms ({e!r}); using unfused uniforms (same numbers)")
            _fusion_failed = True
    return _unfused_uniform(xp, key, *counters)


# ----------------------------------------------------------------------------- samplers on uniforms
class CounterUniforms:
    """The uniforms of a set of draws named by ``counters`` under ``key`` (see :func:`uniform`), as the
    callable a severity's ``sample(xp, uniforms)`` takes: ``u()`` one uniform per draw; ``u(extra, at=idx)``
    the draws ``idx`` only, with ``extra`` trailing counters (rejection rounds)."""

    def __init__(self, xp: ModuleType, key: int, counters):
        self.xp, self.key, self.counters = xp, key, tuple(counters)

    @property
    def size(self) -> int:
        return self.counters[0].shape[0]

    def __call__(self, *extra, at=None):
        cs = self.counters if at is None else tuple(c[at] for c in self.counters)
        return uniform(self.xp, self.key, *cs, *extra)


def standard_gamma(xp: ModuleType, shape: float, uniforms: CounterUniforms):
    """Gamma(shape, 1) variates, one per draw of ``uniforms`` (Marsaglia & Tsang 2000).

    Rejection rounds redraw only the rejected elements, with the round number as an extra counter;
    shapes below 1 use Gamma(shape + 1) · U^(1/shape).
    """
    import math

    a = float(shape)
    boost = a < 1
    d = (a + 1 if boost else a) - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    n = uniforms.size
    out = xp.empty(n)
    active = xp.arange(n)
    ndtri = special(xp).ndtri
    attempt = 0
    while active.size:
        x = ndtri(uniforms(2 * attempt, at=active))
        v = (1.0 + c * x) ** 3
        u = uniforms(2 * attempt + 1, at=active)
        safe_v = xp.maximum(v, 1e-300)  # v <= 0 is rejected anyway; keeps the log finite
        ok = (v > 0) & (xp.log(u) < 0.5 * x * x + d - d * safe_v + d * xp.log(safe_v))
        out[active[ok]] = d * v[ok]
        active = active[~ok]
        attempt += 1
    if boost:
        out *= uniforms(0xFFFFFFFF) ** (1.0 / a)  # a counter no attempt reaches
    return out
