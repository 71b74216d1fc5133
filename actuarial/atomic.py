"""Atomic output files: a file the toolkit writes is either complete or absent, never half-written.

Every output (``run``/``calibrate``/``compare --out``, the HTML report, a sweep's parts and
``results.parquet``, ``--png`` and ``--plot``) goes through :func:`write_new` or
:func:`write_replacing`: the content is written to a hidden temporary file in the target's own
folder (same file system, so the final step is a rename, not a copy), flushed to disk, then put in
place in one step. On any failure (a full disk, a killed process, an exception in the writer)
the temporary file is removed and the target is untouched, so "never overwrite" cannot later
refuse a re-run because of a 0-byte or truncated leftover.

:func:`write_new` never overwrites: it hard-links the temporary file to the target name, which
fails if the name exists (``os.link`` is atomic and does not replace, unlike ``os.rename``).
:func:`write_replacing` is for files the toolkit owns and re-derives (a sweep's ``results.parquet``,
a recomputed part): ``os.replace``.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_new(d / "o.txt", "hello\\n").read_text()
'hello\\n'
>>> write_new(d / "o.txt", "again")
Traceback (most recent call last):
...
FileExistsError: ...o.txt: already exists (nothing was overwritten)
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Callable, Union

Content = Union[str, bytes, Callable[[Path], None]]
"""Text (written as UTF-8), bytes, or a function that writes the file at the path it is given
(e.g. ``lambda p: frame.to_parquet(p)`` or ``lambda p: fig.savefig(p, format="png")``)."""


def _write_temp(path: Path, content: Content) -> Path:
    """``content`` in a new hidden temporary file next to ``path``, flushed to disk; removed on failure."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        if callable(content):
            os.close(fd)
            fd = -1
            content(tmp)
            fd = os.open(tmp, os.O_RDONLY)
        else:
            data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            view = memoryview(data)
            while view:  # os.write may write less than asked
                view = view[os.write(fd, view):]
        os.fsync(fd)  # a full disk can surface only here (delayed allocation)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def write_new(path: str | Path, content: Content) -> Path:
    """Write ``content`` to ``path`` atomically; raise :class:`FileExistsError` if ``path`` exists.

    The file appears complete or not at all; nothing existing is overwritten, even if another
    process creates ``path`` meanwhile. Returns ``path``.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path}: already exists (nothing was overwritten)")
    tmp = _write_temp(path, content)
    try:
        try:
            os.link(tmp, path)  # atomic and refuses to replace
        except FileExistsError:
            raise FileExistsError(f"{path}: already exists (nothing was overwritten)") from None
        except OSError as err:
            if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            # a file system without hard links (some network and FAT mounts): exclusive create
            # of the name, then replace it; the name is ours from the moment it is created
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_replacing(path: str | Path, content: Content) -> Path:
    """Write ``content`` to ``path`` atomically, replacing a file the toolkit itself derived before.

    Readers see the old file or the new one, never a mixture. Returns ``path``.
    """
    path = Path(path)
    tmp = _write_temp(path, content)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def savefig_new(fig, path: str | Path, **kwargs) -> Path:
    """``fig.savefig`` through :func:`write_new` (PNG unless ``format`` is given; the temp name has no suffix)."""
    kwargs.setdefault("format", Path(path).suffix.lstrip(".").lower() or "png")
    return write_new(path, lambda p: fig.savefig(p, **kwargs))
