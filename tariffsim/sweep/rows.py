"""A chunk's tidy rows as Arrow tables, straight from the numpy arrays (no pandas in between).

Belongs here: turning one model's per-country (and per-flow) arrays of a chunk into a
``pyarrow.Table`` and stacking the models' tables. Label columns (model, country, status,
exporter, importer, sector) are built by ``take`` on a handful of distinct strings; numeric
columns are handed to Arrow without copies. Column types are those pandas gave before
(``large_string``, ``int64``, ``double``; ``reason`` is ``null`` where no scenario failed),
so reading a sweep back gives the same DataFrame. pyarrow is imported on first use (sweeps
check for it with a clear message; ``import tariffsim.sweep`` works without it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["labels", "stack", "table"]


def labels(values: Sequence[str], index: np.ndarray):
    """``values[index]`` as an Arrow ``large_string`` array (``values``: few distinct labels)."""
    import pyarrow as pa

    return pa.array(list(values), type=pa.large_string()).take(pa.array(np.asarray(index, dtype=np.int64)))


def _column(values):
    import pyarrow as pa

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    arr = np.asarray(values)
    if arr.dtype == object:  # free text (failure reasons): null where none, else strings
        if all(v is None for v in arr):
            return pa.nulls(len(arr))
        return pa.array(arr.tolist(), type=pa.large_string())
    return pa.array(np.ascontiguousarray(arr))


def table(columns: Mapping[str, object]):
    """A ``pyarrow.Table`` from named columns (numpy arrays or Arrow arrays), in that order."""
    import pyarrow as pa

    return pa.table({name: _column(v) for name, v in columns.items()})


def stack(tables: list):
    """Tables of several models one after the other; a column absent from a model is null there."""
    import pyarrow as pa

    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="default")
