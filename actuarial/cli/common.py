"""Helpers every command shares: output writing (atomic, never overwriting), option checks, the
simulation options and the engine keywords they give. Nothing below the CLI imports this package."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..atomic import write_new
from ..engines import preflight
from ..model.rng import BLOCK_SIZE
from ..scenario import Population, load_scenario

MAX_SIZE = next(m.le for m in Population.model_fields["size"].metadata if getattr(m, "le", None))
"""Largest ``--size``: the scenario schema's bound on population.size."""

from ..engines.parallel import DaskMap
from ..errors import UserError  # noqa: E402  (re-exported: its old home)
from ..report.excel import write_xlsx


def _jsonable(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item"):
        return _jsonable(x.item())
    return x


def check_new_files(**options: str | None) -> None:
    """Refuse, before any work, output paths that exist or that two options share (nothing is overwritten).

    >>> check_new_files(out="a.json", png="a.json")
    Traceback (most recent call last):
    ...
    actuarial.errors.UserError: --out and --png name the same file a.json; give each its own
    """
    given = {opt: Path(p) for opt, p in options.items() if p}
    for opt, path in given.items():
        if path.exists():
            raise UserError(f"{path}: already exists; choose another --{opt} (nothing was overwritten)")
        parent = path.parent
        if not parent.is_dir():
            why = "is a file, not a folder" if parent.exists() else "no such folder"
            raise UserError(f"--{opt} {path}: the folder {parent} {why}; create it or choose another path")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise UserError(f"--{opt} {path}: the folder {parent} is not writable; choose another path")
    seen: dict[Path, str] = {}
    for opt, path in given.items():
        key = path.resolve()
        if key in seen:
            raise UserError(f"--{seen[key]} and --{opt} name the same file {path}; give each its own")
        seen[key] = opt


def write_output(path: str | Path, content, option: str) -> Path:
    """Write an output file atomically (:func:`actuarial.atomic.write_new`): complete or absent, never
    overwriting; a failure (a full disk) is a :class:`UserError` naming ``--option`` and leaves nothing behind."""
    try:
        return write_new(path, content)
    except FileExistsError:
        raise UserError(f"{path}: already exists; choose another --{option} (nothing was overwritten)") from None
    except OSError as err:
        raise UserError(f"--{option} {path}: could not be written ({err.strerror or err}); nothing was left "
                        "behind, so the same command can be run again") from None


def emit(payload: dict, table: pd.DataFrame, fmt: str, out: str | None = None, headline: str = "", inputs=None) -> None:
    """Write ``payload`` as JSON, or ``table`` as CSV or a human table (after ``headline``), to ``out`` or stdout;
    ``xlsx``: a workbook of the tables and ``inputs`` (a scenario or dict) at ``out`` (:mod:`actuarial.report.excel`)."""
    if fmt == "xlsx":
        return write_xlsx(out, payload, table, inputs)
    if fmt == "json":
        text = json.dumps(_jsonable(payload), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        text = table.to_csv(index=False)
    else:
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            text = table.to_string(index=False, float_format=lambda v: f"{v:,.4f}") + "\n"
        if headline:
            text = headline + "\n\n" + text
    if out:
        check_new_files(out=out)  # again: the file may have appeared while simulating
        path = Path(out)
        write_output(path, text, "out")
        print(f"wrote {path}", file=sys.stderr)
    else:
        sys.stdout.write(text)


MAX_SEED = 2**63 - 1
"""Largest seed: seeds are stored in int64 columns (sweep results)."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line naming the option (no usage block), exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def add_simulation_options(p: argparse.ArgumentParser, years: int = 20) -> None:
    """Options of every simulating command: seed, years, size, engine, workers, progress."""
    p.add_argument("--seed", type=int, default=20240101, help="random seed (default: %(default)s)")
    p.add_argument("--years", type=int, default=years, help="simulated years (default: %(default)s)")
    p.add_argument("--size", type=int, default=None, help="override population.size (insured persons)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--engine", choices=("auto", "brute", "fast", "gpu"), default="auto",
                   help="auto (default): the fastest engine whose rules cover the scenario (fast, else brute); "
                        "brute: every person simulated; fast: exact sampling of those reaching the deductible; "
                        "gpu: brute force on CuPy when a GPU is usable, else numpy")
    p.add_argument("--workers", type=int, default=1, help="Dask workers on this machine (default 1: in process)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (tcp://HOST:8786) for a cluster")
    add_connect_timeout(p)


def add_connect_timeout(p: argparse.ArgumentParser) -> None:
    """``--connect-timeout``: how long to wait for a ``--scheduler`` before refusing."""
    p.add_argument("--connect-timeout", type=float, default=5.0, metavar="SECONDS",
                   help="seconds to wait for the --scheduler to answer (default %(default)s)")


def add_common(p: argparse.ArgumentParser, years: int = 20) -> None:
    """The simulation options plus ``--format`` and ``--out``."""
    add_simulation_options(p, years)
    p.add_argument("--format", choices=("table", "json", "csv", "xlsx"), default="table",
                   help="output format (xlsx: an Excel workbook, needs --out)")
    p.add_argument("--out", default=None, help="write output to this file (never overwrites)")


def check_counts(args) -> None:
    """``--years``, ``--workers`` and ``--size`` (where the command has them) must be ≥ 1, checked before any work."""
    for name in ("years", "workers", "size"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise UserError(f"--{name} must be >= 1 (got {value})")
    if getattr(args, "format", None) == "xlsx" and not getattr(args, "out", None):
        raise UserError("--format xlsx writes a workbook: give --out FILE.xlsx")
    size = getattr(args, "size", None)
    if size is not None and size > MAX_SIZE:
        raise UserError(f"--size must be >= 1 and <= {MAX_SIZE:_} insured persons (got {size})")
    seed = getattr(args, "seed", None)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise UserError(f"--seed must be >= 0 and <= 2**63 - 1 (got {seed})")
    timeout = getattr(args, "connect_timeout", None)
    if timeout is not None and not (math.isfinite(timeout) and 0 < timeout <= 3600):
        raise UserError(f"--connect-timeout must be > 0 and <= 3600 seconds (got {timeout})")


@contextmanager
def engine_options(args):
    """Keyword arguments for :func:`actuarial.engines.engine.accumulate` from the common options.

    With ``--workers`` > 1 or ``--scheduler`` the blocks run on Dask; the numbers do not change.
    """
    check_counts(args)
    kw = {"engine": args.engine, "progress": False if args.no_progress else None}
    if args.workers == 1 and not args.scheduler:
        yield kw
        return

    with DaskMap(workers=args.workers, scheduler=args.scheduler, timeout=args.connect_timeout) as dmap:
        yield {**kw, "map_fn": dmap, "chunk_size": BLOCK_SIZE}  # one block per task keeps workers busy


def scenario_from_args(args, scenario=None):
    """``args.scenario`` loaded (or the given, already validated ``scenario``), with ``--size`` applied,
    after checking the output file and the counts."""
    check_new_files(out=getattr(args, "out", None))
    check_counts(args)
    sc = scenario if scenario is not None else load_scenario(args.scenario)
    if getattr(args, "size", None) is not None:
        sc = sc.replace(**{"population.size": args.size})
    preflight.check_run(sc, args.years, args.engine, args.workers)  # before any work: memory and replicates
    return sc
