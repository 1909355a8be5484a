"""`tariffsim run` without pandas: lazy result tables, the text layout, the light data readers."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffsim.analysis.report import _fmt_table
from tariffsim.results import ColumnTable, Result, Tables

SCENARIO = "scenarios/korea_us_2025/liberation_day.toml"


def test_run_text_report_imports_no_pandas():
    # numpy.ma is checked only where `import numpy` itself leaves it out (numpy >= 2; numpy 1.x
    # functions on the run path import it, which is numpy's cost, not ours)
    numpy2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
    heavy = ("pandas", "pyarrow", "scipy", "matplotlib") + (("numpy.ma",) if numpy2 else ())
    code = ("import sys, io, contextlib; from tariffsim.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()):\n"
            f"    code = main(['run', {SCENARIO!r}])\n"
            f"print(code, [m for m in {heavy!r} if m in sys.modules], "
            "'US imports by partner' in out.getvalue())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0 [] True"


def _result(tables) -> Result:
    return Result("m", ("a",), ("USA",), ("S",), {"etr": np.zeros((1, 1))}, tables=tables)


def test_tables_build_frames_on_first_read():
    cols = {"partner": np.array(["WORLD", "KOR"], dtype=object), "etr": np.array([0.1, np.nan])}
    res = _result({"t": ColumnTable(cols), "f": pd.DataFrame({"x": [1.0]})})
    assert isinstance(res.tables, Tables) and isinstance(res.tables, dict)
    assert res.tables.columns("t") is cols  # the numbers, no frame built
    assert isinstance(dict.__getitem__(res.tables, "t"), ColumnTable)
    frame = res.tables["t"]
    pd.testing.assert_frame_equal(frame, pd.DataFrame({"partner": ["WORLD", "KOR"], "etr": [0.1, np.nan]}))
    assert res.tables["t"] is frame  # built once
    for view in (dict(res.tables), {**res.tables}, dict(res.tables.items()), res.tables.copy()):
        assert all(isinstance(v, pd.DataFrame) for v in dict(view).values()), view
    assert [type(v) for v in res.tables.values()] == [pd.DataFrame, pd.DataFrame]
    assert res.tables.get("missing") is None and res.tables.get("f").shape == (1, 1)
    np.testing.assert_array_equal(res.tables.columns("f")["x"], [1.0])


def test_tables_pickle_and_pop():
    res = _result({"t": ColumnTable({"x": np.arange(3.0)})})
    back = pickle.loads(pickle.dumps(res.tables))
    assert isinstance(back, Tables)
    np.testing.assert_array_equal(back["t"]["x"], [0.0, 1.0, 2.0])
    assert isinstance(res.tables.pop("t"), pd.DataFrame) and "t" not in res.tables
    assert res.tables.pop("t", None) is None


_text = st.text(alphabet="ABCxyz ,.%-", max_size=8)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 5), st.lists(st.sampled_from(["str", "float", "pct", "pp"]), min_size=1, max_size=4),
       st.data())
def test_text_table_lays_out_like_pandas(rows, kinds, data):
    """The report's table layout is that of ``DataFrame.to_string(index=False)`` on the same cells."""
    floats = st.one_of(st.floats(-1e9, 1e9, allow_nan=False), st.just(float("nan")))
    columns = {}
    for k, kind in enumerate(kinds):
        name = data.draw(st.sampled_from(["partner", "etr", "imports_usd_bn", "x", "a_long_column_name"])) + str(k)
        if kind == "str":
            columns[name] = np.array(data.draw(st.lists(_text, min_size=rows, max_size=rows)), dtype=object)
        else:
            columns[name] = np.array(data.draw(st.lists(floats, min_size=rows, max_size=rows)), dtype=float)
    pct = [n for n, kind in zip(columns, kinds) if kind == "pct"]
    pp = [n for n, kind in zip(columns, kinds) if kind == "pp"]
    frame = pd.DataFrame({n: pd.Series(c, dtype=object if c.dtype == object else float) for n, c in columns.items()})
    for n in frame.columns:  # what the report printed before, through pandas
        if n in pct:
            frame[n] = frame[n].map(lambda v: "" if pd.isna(v) else f"{100 * v:.2f}%")
        elif n in pp:
            frame[n] = frame[n].map(lambda v: "" if pd.isna(v) else f"{100 * v:+.2f}")
        elif pd.api.types.is_float_dtype(frame[n]):
            frame[n] = frame[n].map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
    if rows == 0 or any(columns[n].dtype == object and any(v != v.strip() or v == "" for v in columns[n])
                        for n in columns):
        return  # pandas' own layout of empty frames and of padded strings is not the report's concern
    assert _fmt_table(columns, pct_cols=pct, pp_cols=pp) == frame.to_string(index=False)


def test_light_readers_agree_with_pandas():
    """Every embedded CSV the run reads without pandas: same cells as pandas reads them."""
    from tariffsim.datasets import _files, codes, law, shares

    def text_frame(name):
        with _files._open(name) as fh:
            return pd.read_csv(fh, dtype=str, keep_default_na=False, na_filter=False,
                               compression="gzip" if name.endswith(".gz") else None)

    for name in ("census_countries.csv", "icio_regions.csv", "icio_sectors.csv", "lists_meta.csv",
                 "rate_tables.csv"):
        light = _files._read_columns(name)
        frame = text_frame(name)
        assert list(light) == list(frame.columns), name
        for col in frame.columns:
            assert list(light[col]) == frame[col].tolist(), (name, col)
    lists = text_frame("lists.csv.gz")
    for name in law.list_names():
        assert law.load_list(name) == tuple(lists.loc[lists["list_name"] == name, "hts_prefix"]), name
    metal = text_frame("metal_content_hs10.csv.gz")
    got = shares.load_metal_content()
    order = np.argsort(metal["hs10"].astype(np.int64).to_numpy(), kind="stable")
    for key in ("steel", "aluminum", "copper", "metal"):
        np.testing.assert_array_equal(got[key], pd.to_numeric(metal[key]).to_numpy(dtype=float)[order])
    census = text_frame("census_countries.csv")
    assert codes.census_icio() == dict(zip(census["iso3"], census["icio_economy"]))


@pytest.mark.parametrize("prefixes", [["87"], ["8703", "7208", "0101210010"], ["847130", "85", "2710199999"], []])
def test_hs_prefix_match_against_strings(prefixes):
    from tariffsim.datasets import load_us_product_lines

    lines = load_us_product_lines()
    text = np.char.zfill(lines.hs10.astype(str), 10)
    expected = np.zeros(len(lines), dtype=bool)
    for p in prefixes:
        expected |= np.char.startswith(text, p)
    np.testing.assert_array_equal(lines.match(prefixes), expected)
