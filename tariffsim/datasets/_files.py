"""Reading the embedded package-data files: cached, handed out as copies or read-only views."""

from __future__ import annotations

import csv
import functools
import gzip
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._lazy import pandas as pd
from ..errors import DataError, did_you_mean, shorten_list

_HERE = Path(__file__).parent


def _open(name: str, mode: str = "rb"):
    """An embedded file, opened: from the package folder, else (a zipped install) through importlib.resources."""
    path = _HERE / name
    if path.is_file():
        return path.open(mode)
    from importlib import resources  # imports tempfile and shutil: only where needed

    return resources.files(__package__).joinpath(name).open(mode)


def _read_csv(name: str, **kwargs) -> pd.DataFrame:
    with _open(name) as fh:
        data = fh.read()
    return pd.read_csv(io.BytesIO(data), compression="gzip" if name.endswith(".gz") else None,
                       keep_default_na=False, na_values=[""], **kwargs)


def _text(name: str) -> str:
    """The text of an embedded file (gunzipped if its name ends in ``.gz``)."""
    with _open(name) as fh:
        data = fh.read()
    return (gzip.decompress(data) if name.endswith(".gz") else data).decode("utf-8")


def _numbers(name: str, columns: Sequence[int], dtype=float) -> np.ndarray:
    """Numeric columns (positions) of an embedded CSV file without quoted fields, shape (N, len(columns))."""
    return np.loadtxt(io.StringIO(_text(name)), delimiter=",", skiprows=1, usecols=tuple(columns),
                      dtype=dtype, ndmin=2)


def _read_columns(name: str) -> dict[str, tuple[str, ...]]:
    """Columns of an embedded CSV file (optionally gzipped) as tuples of strings, without pandas.

    The light path of the loaders that ``tariffsim run`` needs (codes, list prefixes, rate
    tables); cells are the file's text as written ("" where empty).
    """
    header, *body = csv.reader(io.StringIO(_text(name)))
    columns = list(zip(*body)) if body else [()] * len(header)
    return dict(zip(header, columns))


#: :func:`_read_columns`, cached (for the small tables read on every run)
_columns = functools.cache(_read_columns)


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@functools.cache
def _npz(name: str) -> dict[str, np.ndarray]:
    with _open(name) as fh:
        with np.load(io.BytesIO(fh.read()), allow_pickle=False) as z:
            return {k: _readonly(z[k]) for k in z.files}


@functools.cache
def _csv(name: str, dtypes: tuple = ()) -> pd.DataFrame:
    return _read_csv(name, dtype=dict(dtypes) or None)


def _copy(name: str, dtypes: tuple = ()) -> pd.DataFrame:
    return _csv(name, dtypes).copy(deep=True)


def _check_name(name: str, options: Sequence[str], what: str, fix: str) -> None:
    if name not in options:
        raise DataError(
            f"unknown {what} {name!r}. "
            + (did_you_mean(name, options) + " ").lstrip()
            + f"Valid names: {shorten_list(options, 12)}; see {fix}."
        )
