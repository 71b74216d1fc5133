"""A sweep's output directory: the manifest and one self-proving parquet part per finished point.

Layout::

    DIR/sweep.json              definition + fingerprint (which sweep this directory belongs to)
    DIR/points/point-000004.parquet   one finished point
    DIR/points/rejected/        parts that failed their proof, kept for inspection
    DIR/results.parquet         all points, derived from the parts and rewritten on each run

Each part carries, in its parquet metadata, the proof of what it holds: the point's index, its
parameter values and seed, the sweep's fingerprint and a sha256 of its rows. A part that cannot be
read, belongs to another point or sweep, or was edited (a copied, hand-edited or truncated file) is
named on stderr, moved to ``points/rejected/`` and recomputed; :meth:`SweepStore.read` never returns
a row it cannot prove. Every file is written atomically (:mod:`actuarial.atomic`).

This module stores and checks; it does not simulate (:mod:`actuarial.sweep.run` does).
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import pandas as pd

from ..atomic import write_new, write_replacing
from ..errors import SweepError

PROOF_KEY = b"actuarial.sweep.part"

FORMAT_VERSION = 2
"""Part of the fingerprint. 2: expected claims use the control variate (:mod:`actuarial.exact.control`),
so parts written by format 1 are not mixed with new ones."""


def rows_digest(frame: pd.DataFrame) -> str:
    """sha256 of a part's rows: column names and every value (floats exactly, by their repr)."""
    data = {c: [_plain(v) for v in frame[c].tolist()] for c in frame.columns}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def _plain(v):
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)  # json has no NaN; repr keeps it distinct from a string "nan" only by type, enough here
    return v


class SweepStore:
    """An output directory: ``sweep.json`` (definition + fingerprint) and one proven parquet part per point.

    ``expected`` is ``sweep.points()``'s records: what each part must hold (point, parameter values, seed).
    """

    def __init__(self, directory: str | Path, sweep, expected: list[dict] | None = None):
        self.dir = Path(directory)
        self.parts = self.dir / "points"
        self.fingerprint = fp = sweep.fingerprint()
        self.expected = expected if expected is not None else sweep.points().to_dict("records")
        self.names = [p.name for p in sweep.parameters]
        manifest = self.dir / "sweep.json"
        if self.dir.exists() and not self.dir.is_dir():
            raise SweepError(f"--dir {self.dir}: is a file, not a directory; choose another output directory "
                             "(nothing was overwritten)")
        # an empty points/ folder alone is what a run that died writing the manifest (a full disk) left
        leftovers = [p for p in self.dir.iterdir() if not (p == self.parts and p.is_dir() and not any(p.iterdir()))] \
            if self.dir.exists() else []
        if leftovers:
            if not manifest.is_file():
                raise SweepError(f"{self.dir}: not empty and not a sweep output directory; choose another "
                                 "(nothing was overwritten)")
            try:
                old = json.loads(manifest.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise SweepError(f"{manifest}: unreadable ({err}); choose another output directory") from None
            written = old.get("sweep", {}).get("format") if isinstance(old.get("sweep"), dict) else None
            if written is not None and written != FORMAT_VERSION:
                raise SweepError(f"{self.dir}: written by another version of actuarial (sweep format {written}, "
                                 f"this one writes {FORMAT_VERSION}; its estimates are computed differently) — "
                                 "choose another output directory (nothing was mixed or overwritten)")
            if old.get("fingerprint") != fp:
                raise SweepError(f"{self.dir}: holds the results of a different sweep ({old.get('source', '?')}); "
                                 "its definition (base scenario, design, parameters, outputs, years or seed) "
                                 "differs from this one — choose another output directory (nothing was mixed "
                                 "or overwritten)")
        else:
            self.parts.mkdir(parents=True, exist_ok=True)
            text = json.dumps({"fingerprint": fp, "source": sweep.source, "sweep": sweep.definition()},
                              indent=1, ensure_ascii=False)
            try:
                write_new(manifest, text)
            except FileExistsError:  # another run claimed it meanwhile: check it as above
                self.__init__(directory, sweep, expected)
                return
        self.parts.mkdir(exist_ok=True)
        for stale in self.parts.glob(".point-*.tmp"):  # a part being written when the run was killed
            stale.unlink()

    def part(self, index: int) -> Path:
        return self.parts / f"point-{index:06d}.parquet"

    # ------------------------------------------------------------------ writing
    def write(self, index: int, frame: pd.DataFrame) -> None:
        """Write point ``index``'s rows with their proof (atomic: a killed run leaves no half-written part)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        proof = self._proof(index, frame)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               PROOF_KEY: json.dumps(proof).encode()})
        write_replacing(self.part(index), lambda p: pq.write_table(table, p))

    def _proof(self, index: int, frame: pd.DataFrame) -> dict:
        row = self.expected[index]
        return {"point": index, "fingerprint": self.fingerprint, "seed": int(row["seed"]),
                "values": {n: float(row[n]) for n in self.names}, "sha256": rows_digest(frame)}

    def write_results(self, table: pd.DataFrame) -> Path:
        """``results.parquet``: derived from the parts, replaced atomically on each run."""
        return write_replacing(self.dir / "results.parquet", lambda p: table.to_parquet(p, index=False))

    # ------------------------------------------------------------------ reading and checking
    def check(self, index: int) -> tuple[pd.DataFrame | None, str]:
        """Point ``index``'s part if it proves it holds that point of this sweep, else (None, why not)."""
        import pyarrow.parquet as pq

        if not 0 <= index < len(self.expected):
            return None, f"names point {index}, which this sweep does not have"
        try:
            table = pq.read_table(self.part(index))
        except Exception as err:  # pyarrow raises several types for a damaged file
            return None, f"unreadable ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
        meta = (table.schema.metadata or {}).get(PROOF_KEY)
        if meta is None:
            return None, "carries no proof of which point it holds (written by hand or by an older version)"
        try:
            proof = json.loads(meta)
        except ValueError:
            return None, "its proof is unreadable"
        frame = table.to_pandas()
        if proof.get("fingerprint") != self.fingerprint:
            return None, "belongs to a different sweep (fingerprint differs)"
        if proof.get("point") != index:
            return None, f"holds point {proof.get('point')}, not point {index}"
        want = self._proof(index, frame)
        if proof.get("values") != want["values"] or proof.get("seed") != want["seed"]:
            return None, f"was computed at other parameter values ({proof.get('values')}, seed {proof.get('seed')})"
        if proof.get("sha256") != want["sha256"]:
            return None, "its rows were changed after it was written (checksum differs)"
        if "point" not in frame or set(frame["point"].tolist()) != {index}:
            return None, f"its rows are not point {index}'s"
        return frame, ""

    def verified(self, reject: bool = True) -> dict[int, pd.DataFrame]:
        """Every part that proves itself, by point.

        A bad part is named: with ``reject`` (a run) on stderr, and moved to ``points/rejected/`` so the
        run recomputes it; without (reading results back) as a :class:`SweepError`.
        """
        good = {}
        for path in sorted(self.parts.glob("point-*.parquet")):
            stem = path.stem.split("-", 1)[1]
            index = int(stem) if stem.isdigit() else -1
            frame, why = self.check(index) if path == self.part(index) else (None, "has a malformed name")
            if frame is not None:
                good[index] = frame
            elif not reject:
                raise SweepError(f"{path}: {why}; run the sweep again to recompute it")
            else:
                print(f"sweep: {path}: {why}; moved to {self.parts / 'rejected'} and recomputing it", file=sys.stderr)
                (self.parts / "rejected").mkdir(exist_ok=True)
                path.replace(self.parts / "rejected" / path.name)
        return good
