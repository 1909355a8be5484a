"""A sweep's output folder: manifest, chunk journal with checksums, lock file, reading back.

Belongs here: the folder layout and every rule that keeps it honest - atomic writes, the
journal of finished chunks (one JSON line per chunk: file, SHA-256, bytes), verification on
resume (a chunk missing from the journal, truncated or altered is recomputed), the lock
that makes a second run into the same folder fail fast, refusing folders that hold no
sweep, and :func:`read_sweep` / :func:`read_manifest`. Does not belong here: running
chunks (``runner``, ``backends``).

Layout::

    manifest.json            spec, spec and scenario hashes, chunk size, parameter names, notes
    chunks.jsonl             journal: one line per finished chunk {"file", "sha256", "bytes"}
    .lock                    while a run writes here: {"pid", "host", "started"}
    elasticities.parquet     theta per elasticity setting (sweeps with [elasticities])
    chunks/chunk-000000.parquet   one file per finished chunk (rows: model x scenario x country)
    flows/chunk-000000.parquet    per-flow rows (``flows = true`` only)

A chunk is done when its journal line exists and its file has that checksum. Files are
written under a temporary name and renamed into place, then journalled, so a run killed
at any instant leaves at most one unjournalled chunk, which the next ``--resume`` redoes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import socket
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError

__all__ = ["read_sweep", "read_manifest", "SweepLock", "require_pyarrow", "Journal"]

log = logging.getLogger(__name__)

MANIFEST, JOURNAL, LOCK = "manifest.json", "chunks.jsonl", ".lock"


def require_pyarrow(what: str = "Sweeps") -> None:
    """Raise a clear error when pyarrow (the Parquet writer, an optional extra) is missing."""
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise DataError(f"{what} write and read Parquet files, which needs pyarrow (an optional extra): "
                        'pip install "tariffsim[parquet]" (or pip install pyarrow).') from None


def chunk_name(chunk: int) -> str:
    return f"chunk-{chunk:06d}.parquet"


def atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ------------------------------------------------------------------ lock
def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


class SweepLock:
    """``out/.lock`` while a run writes into ``out``: a second run fails fast; a stale lock
    (its process is gone, same host) is taken over."""

    def __init__(self, out: Path) -> None:
        self.path = Path(out) / LOCK
        self.held = False

    def acquire(self) -> SweepLock:
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                other = self._read()
                if other is None or (other.get("host") == me["host"] and not _alive(int(other.get("pid", -1)))):
                    log.warning("%s: removing a stale lock %s (its process is gone)", self.path.parent, other)
                    self.path.unlink(missing_ok=True)
                    continue
                raise DataError(
                    f"{str(self.path.parent)!r} is being written by another sweep run (pid {other.get('pid')} on "
                    f"{other.get('host')}, started {other.get('started')}). Wait for it to finish, or choose another "
                    f"output directory. If no such process runs, delete {str(self.path)!r}.") from None
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return self
        raise DataError(f"could not take the lock {str(self.path)!r}; delete it if no sweep runs.")  # pragma: no cover

    def _read(self) -> dict | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return None  # half-written by a process killed while taking it

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> SweepLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# ------------------------------------------------------------------ journal
class Journal:
    """Append-only record of finished chunks (``chunks.jsonl``)."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.path = self.out / JOURNAL

    def entries(self) -> dict[str, dict[str, Any]]:
        """file (relative) -> {"sha256", "bytes"}; a torn last line (killed mid-append) is ignored."""
        if not self.path.is_file():
            return {}
        found = {}
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
                found[rec["file"]] = {"sha256": rec["sha256"], "bytes": int(rec["bytes"])}
            except (ValueError, KeyError, TypeError):
                continue
        return found

    def record(self, path: Path, digest: str) -> None:
        rel = path.relative_to(self.out).as_posix()
        line = json.dumps({"file": rel, "sha256": digest, "bytes": path.stat().st_size}) + "\n"
        with open(self.path, "a+b") as f:
            if f.tell() > 0:  # after a torn line (a process killed mid-append), start a new one
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    line = "\n" + line
            f.write(line.encode("utf-8"))
            f.flush()

    def verified(self, folder: str, *, deep: bool) -> tuple[set[int], list[str]]:
        """Chunks of ``folder`` whose file matches its journal line, and what is wrong with the others.

        ``deep``: compare SHA-256 checksums (resume); otherwise sizes only (reading).
        """
        entries = self.entries()
        done, bad = set(), []
        for p in sorted((self.out / folder).glob("chunk-*.parquet")):
            rel = f"{folder}/{p.name}"
            rec = entries.get(rel)
            if rec is None:
                bad.append(f"{rel} is not in the journal (an unfinished write or a file from elsewhere)")
            elif p.stat().st_size != rec["bytes"]:
                bad.append(f"{rel} has {p.stat().st_size:,} bytes, the journal says {rec['bytes']:,} (truncated)")
            elif deep and sha256_file(p) != rec["sha256"]:
                bad.append(f"{rel} does not match its checksum (altered)")
            else:
                try:
                    done.add(int(p.stem.split("-")[1]))
                except ValueError:
                    bad.append(f"{rel} is not a chunk file name")
        return done, bad


# ------------------------------------------------------------------ manifest
def read_manifest(out: str | Path) -> dict[str, Any]:
    """The manifest of a sweep output directory, with ``chunks_done`` and ``complete`` from the journal."""
    path = Path(out) / MANIFEST
    if not path.is_file():
        raise DataError(f"{str(out)!r} is not a sweep output directory (no manifest.json).")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise DataError(f"{str(path)!r} is not valid JSON ({err}); the folder's sweep record is damaged.") from None
    if Journal(out).path.is_file():
        done, _ = Journal(out).verified("chunks", deep=False)
        manifest["chunks_done"] = sorted(done)
        manifest["complete"] = len(done) == manifest.get("n_chunks")
    return manifest


def check_new_folder(out: Path) -> None:
    """Refuse to write a new sweep into a non-empty folder that holds no sweep."""
    if out.exists() and not out.is_dir():
        raise DataError(f"{str(out)!r} is a file; choose a folder for the sweep output.")
    if out.is_dir() and any(p.name != LOCK for p in out.iterdir()):
        raise DataError(f"{str(out)!r} is not empty and holds no sweep (no manifest.json). Choose a new or empty "
                        "output directory: a sweep never mixes its chunks with other files.")


def _ok_files(out: Path, folder: str, n_chunks: int | None) -> list[Path]:
    """Chunk files that match the journal (sizes), warning about the others."""
    journal = Journal(out)
    files = sorted((out / folder).glob("chunk-*.parquet"))
    if not journal.path.is_file():  # written before the journal existed (format 1)
        return files
    done, bad = journal.verified(folder, deep=False)
    if bad:
        warnings.warn(f"{out}: left out {len(bad)} chunk file(s): {'; '.join(bad[:3])}"
                      f"{' ...' if len(bad) > 3 else ''}. Resume the sweep to recompute them.", UserWarning,
                      stacklevel=3)
    return [p for p in files if p.stem.split("-")[1].isdigit() and int(p.stem.split("-")[1]) in done]


def read_sweep(out: str | Path, *, table: str = "rows", columns=None, models=None, countries=None,
               scenarios: tuple[int, int] | None = None) -> pd.DataFrame:
    """Read a sweep's rows (or per-flow rows) into one DataFrame, in scenario order.

    Parameters
    ----------
    out : str or Path
        The sweep output directory.
    table : {"rows", "flows", "elasticities"}
    columns : list of str, optional
        Read only these columns (Parquet column projection: what keeps large sweeps small).
    models, countries : list of str, optional
        Keep only these models / countries (``countries`` filters ``importer`` for flows).
    scenarios : (start, stop), optional
        Keep scenario indices in ``[start, stop)``.

    Returns
    -------
    DataFrame
        Only chunks that match the journal are read; others (truncated, foreign, unfinished)
        are left out with a warning.

    Raises
    ------
    DataError
        Not a sweep folder, unknown table or column, or an unreadable chunk (named).
    """
    require_pyarrow("Reading a sweep")
    import pyarrow as pa
    import pyarrow.dataset as ds

    out = Path(out)
    manifest = read_manifest(out)
    if table == "elasticities":
        return pd.read_parquet(out / "elasticities.parquet")
    folders = {"rows": "chunks", "flows": "flows"}
    if table not in folders:
        raise DataError(f"unknown table {table!r}; choose one of ['rows', 'flows', 'elasticities'].")
    files = _ok_files(out, folders[table], manifest["n_chunks"])
    missing = manifest["n_chunks"] - len(files) if table == "rows" else 0
    if missing:
        warnings.warn(f"{out}: {missing} of {manifest['n_chunks']} chunks are not done; reading the others "
                      "(resume the sweep to finish it).", UserWarning, stacklevel=2)
    if not files:
        return pd.DataFrame(columns=list(columns) if columns else manifest.get("columns", []))
    known = manifest.get("columns")
    if columns and known and table == "rows":
        unknown = [c for c in columns if c not in known]
        if unknown:
            from ..errors import did_you_mean, shorten_list

            raise DataError(f"the sweep rows have no column {unknown[0]!r}. {did_you_mean(unknown[0], known)} "
                            f"Columns: {shorten_list(known, 12)}.")
    try:
        data = ds.dataset([str(f) for f in files], format="parquet")
        expr = None
        for col, vals in (("model", models), ("country" if table == "rows" else "importer", countries)):
            if vals is not None:
                cond = ds.field(col).isin(list(vals))
                expr = cond if expr is None else expr & cond
        if scenarios is not None:
            cond = (ds.field("scenario") >= int(scenarios[0])) & (ds.field("scenario") < int(scenarios[1]))
            expr = cond if expr is None else expr & cond
        return data.to_table(columns=list(columns) if columns else None, filter=expr).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"{out}: a chunk file cannot be read ({err}). Resume the sweep (CLI --resume) to verify the "
                        "chunks against their checksums and recompute damaged ones.") from None
