"""Embedded datasets: reproducible build, published totals, concordances, loader safety."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tariffsim import datasets as D
from tariffsim.errors import DataError

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared" / "data"
PKG = REPO / "tariffsim" / "datasets"
needs_shared = pytest.mark.skipif(not (SHARED / "icio2022").is_dir(),
                                  reason="shared raw data folder ../shared/data not present")


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    return D.load_us_lines()


# ------------------------------------------------------------------ reproducible build
@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    if not (SHARED / "icio2022").is_dir():
        pytest.skip("shared raw data folder ../shared/data not present")
    spec = importlib.util.spec_from_file_location("build_datasets", REPO / "tools" / "build_datasets.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path_factory.mktemp("datasets")
    mod.build(SHARED, out)
    spec = importlib.util.spec_from_file_location("build_shares", REPO / "tools" / "build_shares.py")
    shares = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shares)
    shares.build(SHARED, out)
    return out


def _data_files() -> list[str]:
    return sorted(p.name for p in PKG.iterdir() if p.suffix in (".npz", ".csv", ".gz"))


def test_rebuild_writes_the_same_file_set(rebuilt):
    assert sorted(p.name for p in rebuilt.iterdir()) == _data_files()


@pytest.mark.parametrize("name", _data_files())
def test_rebuild_reproduces_committed_file(rebuilt, name):
    new, old = rebuilt / name, PKG / name
    if name.endswith(".npz"):
        with np.load(new) as a, np.load(old) as b:
            assert sorted(a.files) == sorted(b.files)
            for k in a.files:
                np.testing.assert_array_equal(a[k], b[k], err_msg=f"{name}:{k}")
    elif name.endswith(".gz"):
        assert gzip.decompress(new.read_bytes()) == gzip.decompress(old.read_bytes())
    else:
        assert new.read_text(encoding="utf-8") == old.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ world
def test_region10_aggregate_matches_provided_10_region_file():
    w = D.load_world()
    assert w.countries == D.REGION10
    assert w.year == 2022 and "OECD (2023), Inter-Country Input-Output Tables, 2023 edition" in w.source
    # the 81-economy cube aggregated == the shipped 2019-2022 10-region cube for 2022
    r10 = D._npz("icio_region10_2019_2022.npz")
    k = list(r10["years"]).index(2022)
    np.testing.assert_allclose(w.flows, r10["flows"][k], rtol=1e-6, atol=1e-6)


@needs_shared
def test_region10_aggregate_matches_shared_file():
    ref = pd.read_csv(SHARED / "icio2022" / "icio2023ext_flows_2019_2022_10reg_28sec.csv").query("year == 2022")
    w = D.load_world()
    got = w.to_frame().set_index(["exporter", "importer", "sector"])["value"]
    ref = ref.set_index(["exporter", "importer", "sector"])["value_usd_mn"]
    got, ref = got.align(ref, fill_value=0.0)
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-6, atol=1e-6)


def test_icio_sanity_numbers_and_tradability():
    w = D.load_world()
    goods = [w.sector_index(s) for s in D.goods_sectors()]
    kor, usa = w.country_index("KOR"), w.country_index("USA")
    assert w.flows[kor, usa, goods].sum() / 1e3 == pytest.approx(98.1, abs=0.05)
    assert w.flows[usa, kor, goods].sum() / 1e3 == pytest.approx(57.6, abs=0.05)
    assert len(D.goods_sectors()) == 27 and "SERV" not in D.goods_sectors()
    assert w.tradable.all()  # SERV is traded too


def test_world_variants_preserve_totals():
    w10, w81 = D.load_world(), D.load_world("icio81")
    assert w81.n_countries == 81 and w81.countries[-1] == "ROW"
    np.testing.assert_allclose(w10.flows.sum(), w81.flows.sum(), rtol=1e-12)
    w = D.load_world(keep=["DEU"])
    assert w.countries[w.country_index("EU27") + 1] == "DEU"
    np.testing.assert_allclose(w.flows.sum(), w10.flows.sum(), rtol=1e-12)
    custom = D.load_world({"KOR": "KOR", "USA": "USA", "default": "ROW"})
    assert custom.countries == ("KOR", "USA", "ROW")
    assert D.load_world(year=2019).year == 2019


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"regions": "region11"}, "region10"),
        ({"keep": ["DEX"]}, "DEU"),
        ({"regions": {"KOR": "KOR"}}, "default"),
        ({"year": 2023}, "2019"),
        ({"regions": "icio81", "year": 2020}, "region10"),
    ],
)
def test_world_errors_are_helpful(kwargs, needle):
    with pytest.raises(DataError, match=needle):
        D.load_world(**kwargs)


# ----------------------------------------------------------------- US lines and codes
def test_us_import_totals_match_source(lines):
    assert len(lines) == 334_728
    assert lines["imports_usd"].sum() / 1e9 == pytest.approx(3123.8, abs=0.05)
    assert lines.loc[lines["cty_code"] == 5800, "imports_usd"].sum() / 1e9 == pytest.approx(128.43, abs=0.005)
    assert not lines.duplicated(["hs10", "cty_code"]).any()
    assert lines["hs10"].str.fullmatch(r"\d{10}").all()


def test_census_code_table():
    cc = D.load_census_countries()
    lines = D.load_us_lines()
    assert sorted(cc["cty_code"]) == sorted(lines["cty_code"].unique())
    assert cc["cty_code"].is_unique and len(cc) == 233
    assert cc["iso3"].str.fullmatch(r"[A-Z]{3}").all()
    dup = cc.loc[cc["iso3"].duplicated(keep=False), "iso3"].unique().tolist()
    assert dup == ["PSE"]  # Gaza Strip 5082 and West Bank 5083, documented
    spot = {5800: "KOR", 1220: "CAN", 2010: "MEX", 5700: "CHN", 5830: "TWN", 5520: "VNM", 5880: "JPN", 4280: "DEU"}
    got = dict(zip(cc["cty_code"], cc["iso3"]))
    assert {k: got[k] for k in spot} == spot
    assert set(cc["region10"]) <= set(D.REGION10)
    row = cc.set_index("cty_code")
    assert row.loc[4280, "region10"] == "EU27" and row.loc[5660, "icio_economy"] == "ROW"


def test_every_line_has_one_icio_sector(lines):
    sectors = set(D.load_sectors()["code"])
    assert lines["sector"].notna().all() and set(lines["sector"].unique()) <= sectors
    first = lines.drop_duplicates("hs10").set_index("hs10")["sector"]

    def sector_of(prefix: str) -> set:
        return set(first[first.index.str.startswith(prefix)])

    assert sector_of("89") == {"C301"}
    assert sector_of("8703") == {"C29"}
    assert sector_of("72") == {"C24A"}
    assert sector_of("2716") == {"SERV"}
    assert sector_of("2601") == {"B07"}
    assert sector_of("88") == {"C302T309"}
    assert sector_of("91") == {"C26"}


def test_base_rates(lines):
    kor = lines[lines["iso3"] == "KOR"]
    assert (kor["pref_program"] == "KORUS").all()
    np.testing.assert_allclose(kor["base_rate_2024"], kor["pref_adval"])
    can = lines[lines["iso3"] == "CAN"]
    expect = can["usmca_share"] * can["pref_adval"] + (1 - can["usmca_share"]) * can["mfn_adval"]
    np.testing.assert_allclose(can["base_rate_2024"], expect)
    other = lines[lines["pref_program"] == ""]
    np.testing.assert_allclose(other["base_rate_2024"], other["mfn_adval"])
    assert set(lines.loc[lines["iso3"].isin(["CUB", "PRK", "RUS", "BLR"]), "pref_program"]) == {"column2"}
    assert lines.loc[lines["rate_missing"] & (lines["mfn_type"] == "missing"), "hts8"].unique().tolist() == ["29180000"]
    assert (lines["usmca_share"].between(0, 1)).all()
    assert (lines.loc[~lines["iso3"].isin(["CAN", "MEX"]), "usmca_share"] == 0).all()
    # light trucks from Korea keep the 25% KORUS rate
    assert kor.loc[kor["hs10"].str.startswith("870431"), "pref_adval"].max() == pytest.approx(0.25)


# -------------------------------------------------------------- lists and rate tables
def test_lists():
    assert set(D.list_names()) >= {"annex_ii_2025_04_02", "annex_ii_2025_04_11_electronics", "annex_ii_current",
                                   "s232_autos_note33b", "s232_parts_note33g", "s232_steel_derivatives",
                                   "s232_aluminum_derivatives"}
    assert len(D.load_list("annex_ii_2025_04_02")) == 1039
    assert len(D.load_list("annex_ii_2025_04_11_electronics")) == 20
    assert len(D.load_list("s232_autos_note33b")) == 17 and len(D.load_list("s232_parts_note33g")) == 130
    info = D.list_info().set_index("list_name")
    for name in D.list_names():
        prefixes = D.load_list(name)
        assert all(p.isdigit() for p in prefixes)
        assert info.loc[name, "n_entries"] == len(prefixes)
    assert "8471" in D.load_list("s232_parts_note33g")


def test_rate_tables():
    assert {"reciprocal_2025_04", "reciprocal_2025_08"} <= set(D.rate_table_names())
    apr = D.load_rate_table("reciprocal_2025_04")
    assert apr["iso3"].is_unique
    rates = D.rate_table_dict("reciprocal_2025_04")
    assert rates["KOR"] == pytest.approx(0.25) and rates["DEU"] == pytest.approx(0.20)
    assert rates["VNM"] == pytest.approx(0.46) and rates["HKG"] == pytest.approx(0.34)
    assert len(apr) == 57 - 2 + 27 + 3  # EU -> 27 members, China -> CHN, HKG, MAC
    aug = D.load_rate_table("reciprocal_2025_08").set_index("iso3")
    for iso in ["KOR", "JPN", "CHE", "LIE", "FRA"]:
        assert aug.loc[iso, "structure"] == "floor" and aug.loc[iso, "rate"] == pytest.approx(0.15)
    assert aug.loc["IND", "structure"] == "additive" and aug.loc["IND", "rate"] == pytest.approx(0.25)
    assert set(aug["structure"]) == {"additive", "floor"}


def test_elasticities():
    for src in D.elasticity_sources():
        e = D.load_elasticities(src)
        assert len(e) == 28 and (e > 0).all() and e["SERV"] == 5.0
    assert D.load_elasticities()["C29"] == pytest.approx(1.84)
    assert D.load_elasticities("fgo2022")["C20"] == pytest.approx(10.56)
    t = D.load_elasticity_table()
    assert t["serv_assumed"].sum() == 1 and bool(t.loc["SERV", "serv_assumed"])


def test_datasets_info():
    info = D.datasets_info()
    assert {d["name"] for d in info} == set(_data_files())
    assert sum(d["size"] for d in info) < 12e6
    assert all(set(d) == {"name", "description", "source", "licence", "year", "size"} for d in info)


# --------------------------------------------------------------- errors and the cache
@pytest.mark.parametrize(
    "call, bad, good",
    [
        (D.load_list, "annex_ii_current_", "annex_ii_current"),
        (D.load_list, "s232_copper_derivatives", "s232_"),
        (D.load_rate_table, "reciprocal_2025_4", "reciprocal_2025_04"),
        (D.load_elasticities, "cp2016", "cp2015"),
    ],
)
def test_unknown_names_suggest_close_matches(call, bad, good):
    with pytest.raises(DataError, match="Did you mean") as err:
        call(bad)
    assert good in str(err.value) and bad in str(err.value)


def test_loaders_cannot_corrupt_the_cache():
    lines = D.load_us_lines()
    lines.loc[0, "imports_usd"] = -1.0
    lines["mfn_adval"] *= 100
    fresh = D.load_us_lines()
    assert fresh.loc[0, "imports_usd"] > 0 and fresh["mfn_adval"].max() <= 5

    w = D.load_world()
    with pytest.raises(ValueError):
        w.flows[0, 0, 0] = 0.0
    with pytest.raises(ValueError):
        D._npz("icio2022_flows.npz")["flows"][0, 0, 0] = 0.0

    for loader in (D.load_census_countries, D.list_info, D.load_elasticity_table, D.load_sectors):
        frame = loader()
        numeric = pd.api.types.is_numeric_dtype(frame.dtypes.iloc[0])
        before = loader().iloc[0, 0]
        frame.iloc[0, 0] = -99 if numeric else "corrupted"
        assert loader().iloc[0, 0] == before
    e = D.load_elasticities()
    e.iloc[:] = 0.0
    assert (D.load_elasticities() > 0).all()
    t = D.load_rate_table("reciprocal_2025_04")
    t["rate"] = 9.0
    assert D.rate_table_dict("reciprocal_2025_04")["KOR"] == pytest.approx(0.25)
