"""Readers: gegravity long data and error messages."""

from __future__ import annotations

import pandas as pd
import pytest

from tariffsim import DataError
from tariffsim.datasets.readers import read_caliendo_parro, read_gravity_long
from test_ge_helpers import GRAVITY_FILE, needs_gravity


@needs_gravity
def test_read_gravity_sample():
    world = read_gravity_long(GRAVITY_FILE)
    assert world.flows.shape == (30, 30, 1)
    usa, aus = world.country_index("USA"), world.country_index("AUS")
    assert world.flows[usa, aus, 0] == 16619


def _write(tmp_path, frame):
    path = tmp_path / "g.csv"
    frame.to_csv(path, index=False)
    return path


def _frame():
    rows = [(i, j, 10.0 if i != j else 100.0, 120.0, 120.0) for i in "AB" for j in "AB"]
    return pd.DataFrame(rows, columns=["exporter", "importer", "trade", "Y", "E"])


def test_gravity_errors(tmp_path):
    assert read_gravity_long(_write(tmp_path, _frame())).n_countries == 2
    with pytest.raises(DataError, match="missing column"):
        read_gravity_long(_write(tmp_path, _frame().drop(columns="E")))
    with pytest.raises(DataError, match="duplicated"):
        read_gravity_long(_write(tmp_path, pd.concat([_frame(), _frame().iloc[:1]])))
    with pytest.raises(DataError, match="pair"):
        read_gravity_long(_write(tmp_path, _frame().iloc[:3]))
    bad = _frame()
    bad.loc[1, "trade"] = -1
    with pytest.raises(DataError, match="negative"):
        read_gravity_long(_write(tmp_path, bad))
    bad = _frame()
    bad.loc[0, "Y"] = 5
    with pytest.raises(DataError, match="constant per exporter"):
        read_gravity_long(_write(tmp_path, bad))


def test_cp_reader_missing_folder(tmp_path):
    with pytest.raises(DataError, match="xbilat1993.txt"):
        read_caliendo_parro(tmp_path)
