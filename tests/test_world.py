"""TradeWorld: validation messages, frames, aggregation, trade identities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tariffsim.errors import DataError
from tariffsim.world import TradeWorld


def small_world() -> TradeWorld:
    """3 countries x 2 sectors; flows[i, j, s] = 100*i + 10*j + s + 1 (all distinct)."""
    i, j, s = np.meshgrid(np.arange(3), np.arange(3), np.arange(2), indexing="ij")
    flows = 100.0 * i + 10.0 * j + s + 1.0
    return TradeWorld(("USA", "KOR", "JPN"), ("C29", "C24A"), flows, name="toy")


# ------------------------------------------------------------------ validation
def test_negative_flow_names_the_cell_and_the_fix():
    flows = np.ones((2, 2, 1))
    flows[1, 0, 0] = -3.0
    with pytest.raises(DataError) as err:
        TradeWorld(("USA", "KOR"), ("C29",), flows)
    msg = str(err.value)
    assert "negative" in msg
    assert "exporter=KOR" in msg and "importer=USA" in msg and "sector=C29" in msg
    assert "-3" in msg
    assert ">= 0" in msg  # how to fix


def test_nan_flow_names_the_cell_and_the_fix():
    flows = np.ones((2, 2, 2))
    flows[0, 1, 1] = np.nan
    flows[1, 1, 0] = np.inf
    with pytest.raises(DataError) as err:
        TradeWorld(("USA", "KOR"), ("C29", "C24A"), flows)
    msg = str(err.value)
    assert "2 NaN or infinite" in msg
    assert "exporter=USA, importer=KOR, sector=C24A" in msg
    assert "fill missing flows with 0" in msg


def test_duplicate_labels_are_named():
    with pytest.raises(DataError, match=r"duplicate country labels \[KOR\]"):
        TradeWorld(("KOR", "USA", "KOR"), ("C29",), np.ones((3, 3, 1)))
    with pytest.raises(DataError, match=r"duplicate sector labels \[C29\].*must appear once"):
        TradeWorld(("KOR", "USA"), ("C29", "C29"), np.ones((2, 2, 2)))


def test_shape_mismatch_states_expected_shape():
    with pytest.raises(DataError) as err:
        TradeWorld(("USA", "KOR", "JPN"), ("C29",), np.ones((3, 2, 1)))
    msg = str(err.value)
    assert "(3, 2, 1)" in msg and "(3, 3, 1)" in msg and "(exporter, importer, sector)" in msg


def test_unknown_country_lookup_suggests():
    w = small_world()
    with pytest.raises(DataError, match=r"unknown country 'JPM'.*Did you mean 'JPN'"):
        w.country_index("JPM")


def test_flows_are_read_only_copies():
    flows = np.ones((2, 2, 1))
    w = TradeWorld(("USA", "KOR"), ("C29",), flows)
    flows[0, 1, 0] = 99.0  # the caller's array is not aliased
    assert w.flows[0, 1, 0] == 1.0
    with pytest.raises(ValueError):
        w.flows[0, 1, 0] = 5.0


# ------------------------------------------------------------------ frames
def test_frame_round_trip():
    w = small_world()
    frame = w.to_frame()
    assert list(frame.columns) == ["exporter", "importer", "sector", "value"]
    assert len(frame) == 18  # all flows non-zero
    row = frame[(frame.exporter == "JPN") & (frame.importer == "KOR") & (frame.sector == "C24A")]
    assert row["value"].item() == 100 * 2 + 10 * 1 + 1 + 1
    back = TradeWorld.from_frame(frame, countries=w.countries, sectors=w.sectors)
    np.testing.assert_array_equal(back.flows, w.flows)
    assert back.countries == w.countries and back.sectors == w.sectors


def test_from_frame_missing_rows_are_zero_and_default_order():
    frame = pd.DataFrame({"exporter": ["KOR", "USA"], "importer": ["USA", "KOR"],
                          "sector": ["C29", "C24A"], "value": [5.0, 2.0]})
    w = TradeWorld.from_frame(frame)
    assert w.countries == ("KOR", "USA")  # sorted union
    assert w.sectors == ("C29", "C24A")  # order of appearance
    assert w.flows[0, 1, 0] == 5.0 and w.flows[1, 0, 1] == 2.0
    assert w.flows.sum() == 7.0
    assert len(w.to_frame()) == 2 and len(w.to_frame(include_zeros=True)) == 8


def test_from_frame_errors():
    frame = pd.DataFrame({"exporter": ["KOR", "KOR"], "importer": ["USA", "USA"],
                          "sector": ["C29", "C29"], "value": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"duplicated .*\['KOR', 'USA', 'C29'\].*groupby"):
        TradeWorld.from_frame(frame)
    with pytest.raises(DataError, match=r"lacks column\(s\) \['value'\].*value="):
        TradeWorld.from_frame(frame.drop(columns="value"))
    with pytest.raises(DataError, match=r"countries \[KOR\] in the frame are not in `countries`"):
        TradeWorld.from_frame(frame.iloc[:1], countries=["USA", "JPN"])


# ------------------------------------------------------------------ identities
def test_exports_imports_identities():
    w = small_world()
    f = w.flows
    # exports of KOR in C24A: what KOR ships to USA and JPN
    assert w.exports()[1, 1] == f[1, 0, 1] + f[1, 2, 1]
    # imports of USA in C29: what KOR and JPN ship to USA
    assert w.imports()[0, 0] == f[1, 0, 0] + f[2, 0, 0]
    # world exports == world imports, sector by sector
    np.testing.assert_allclose(w.exports().sum(axis=0), w.imports().sum(axis=0))
    np.testing.assert_allclose(w.output() - w.exports(), w.absorption() - w.imports())  # domestic sales
    np.testing.assert_allclose(w.output().sum(), f.sum())


# ------------------------------------------------------------------ aggregation
def test_aggregate_regions_and_sectors_preserves_sums():
    w = small_world()
    agg = w.aggregate({"USA": "USA", "KOR": "ASIA", "JPN": "ASIA"}, {"C29": "G", "C24A": "G"})
    assert agg.countries == ("USA", "ASIA") and agg.sectors == ("G",)
    assert agg.flows.sum() == pytest.approx(w.flows.sum())
    f = w.flows
    # ASIA -> ASIA includes KOR<->JPN trade and both domestic diagonals
    assert agg.flows[1, 1, 0] == pytest.approx(f[1:, 1:, :].sum())
    assert agg.flows[0, 1, 0] == pytest.approx(f[0, 1:, :].sum())
    # exports of the region = exports of members to non-members only
    assert agg.exports()[1, 0] == pytest.approx(f[1:, 0, :].sum())


def test_aggregate_errors_name_labels():
    w = small_world()
    with pytest.raises(DataError, match=r"leaves \[JPN\] unassigned.*map a country to itself"):
        w.aggregate({"USA": "USA", "KOR": "ASIA"})
    with pytest.raises(DataError, match=r"unknown country\(s\) \[JPM\].*Did you mean 'JPN'"):
        w.aggregate({"USA": "USA", "KOR": "A", "JPN": "A", "JPM": "A"})
    with pytest.raises(DataError, match=r"sector mapping leaves \[C24A\] unassigned"):
        w.aggregate(sectors={"C29": "G"})


def test_load_world_keep_deu_apart_preserves_totals():
    from tariffsim.datasets import load_world

    r10 = load_world()
    deu = load_world(keep=["DEU"])
    assert deu.countries == ("USA", "KOR", "CHN", "JPN", "TWN", "VNM", "MEX", "CAN", "EU27", "DEU", "ROW")
    assert deu.flows.sum() == pytest.approx(r10.flows.sum(), rel=1e-12)
    # folding DEU back into EU27 gives the 10-region world
    back = deu.aggregate({c: ("EU27" if c == "DEU" else c) for c in deu.countries})
    assert back.countries == r10.countries
    np.testing.assert_allclose(back.flows, r10.flows, rtol=1e-10, atol=1e-6)
    # US imports from DEU are part of US imports from the EU27
    us = r10.country_index("USA")
    assert 0 < deu.flows[deu.country_index("DEU"), us].sum() < r10.flows[r10.country_index("EU27"), us].sum()
