"""The quality of error messages: where → what → did you mean → how to fix (cf. xarray)."""

from __future__ import annotations

import textwrap

import pytest

from tariffsim import datasets
from tariffsim.errors import DataError, ScenarioError, did_you_mean, shorten_list
from tariffsim.scenario import load_scenario, scenario_from_dict


def problems_of(data: dict, file: str = "kor.toml") -> ScenarioError:
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data, file=file)
    return err.value


def one_measure(**fields) -> dict:
    return {"name": "t", "measure": [{"id": "m", **fields}]}


def test_rate_in_percent_suggests_the_fraction():
    err = problems_of(one_measure(kind="reciprocal", importer="USA", rates={"KOR": 25.0}))
    msg = str(err)
    assert "kor.toml → measure[0].rates.KOR = 25.0: is outside [0, 5]." in msg
    assert "Rates are decimal fractions (0.25 = 25%). Did you mean 0.25?" in msg
    err = problems_of(one_measure(kind="item", importer="USA", products=["87"], rate=50))
    assert "measure[0].rate = 50" in str(err) and "Did you mean 0.5?" in str(err)


def test_negative_rate_gets_no_percent_hint():
    err = problems_of(one_measure(kind="floor", importer="USA", rate=-0.1))
    assert "measure[0].rate = -0.1: is outside [0, 5]." in str(err)
    assert "Did you mean" not in str(err)


def test_unknown_country_lists_closest_codes_best_first():
    err = problems_of(one_measure(kind="reciprocal", importer="USA", rates={"JPM": 0.2}))
    (p,) = err.problems
    assert p.path == "measure[0].rates.JPM = 'JPM'"
    assert p.hint.startswith("Did you mean one of 'JPN'")
    err = problems_of(one_measure(kind="floor", importer="USA", partners=["KOR", "kor"], rate=0.15))
    assert "partners[1] = 'kor'" in str(err) and "Did you mean 'KOR'?" in str(err)


def test_unknown_list_suggests_the_list():
    err = problems_of(one_measure(kind="reciprocal", importer="USA", rates={"KOR": 0.25},
                                  exempt=["list:annex_ii_2025_04_2"]))
    msg = str(err)
    assert "measure[0].exempt[0] = 'list:annex_ii_2025_04_2': is not a known list." in msg
    assert "'list:annex_ii_2025_04_02'" in msg.split("Did you mean")[1].split(",")[0]


def test_unknown_kind_suggests_the_kind():
    err = problems_of(one_measure(kind="recipocal", importer="USA"))
    assert "measure[0].kind = 'recipocal': is not a measure kind. Did you mean 'reciprocal'?" in str(err)
    err = problems_of(one_measure(kind="zzz", importer="USA"))
    assert "Valid kinds: base, reciprocal, item" in str(err)
    err = problems_of(one_measure(importer="USA"))
    assert "measure[0].kind: is missing. Choose one of base, reciprocal" in str(err)


def test_unknown_key_with_did_you_mean():
    err = problems_of(one_measure(kind="item", importer="USA", rate=0.1, prodcts=["87"]))
    assert "measure[0].prodcts: unknown key 'prodcts'. Did you mean 'products'?" in str(err)
    err = problems_of({"name": "t", "stackng": "max"})
    assert "stackng: unknown key 'stackng'. Did you mean 'stacking'?" in str(err)


def test_bad_literal_value_with_did_you_mean():
    err = problems_of({"name": "t", "stacking": "additve"})
    assert "stacking = 'additve': is not a valid value. Did you mean 'additive'?" in str(err)


def test_products_for_non_us_importer_suggest_sectors_and_coverage():
    err = problems_of(one_measure(kind="retaliation", importer="KOR", partners=["USA"], rate=0.1, products=["8703"]))
    msg = str(err)
    assert "only for importer USA" in msg and "importer is KOR" in msg
    assert "sectors = [...]" in msg and "coverage" in msg


def test_bad_hs_code_and_measure_reference():
    err = problems_of({"name": "t", "measure": [
        {"id": "a", "kind": "item", "importer": "USA", "rate": 0.1, "products": ["87x3", "measure:b"]},
        {"id": "b", "kind": "reciprocal", "importer": "USA", "rates": {"KOR": 0.1}, "exempt": ["measure:s232"]},
    ]})
    msg = str(err)
    assert "measure[0].products[0] = '87x3': is not an HS prefix" in msg
    assert "Write HS codes as strings" in msg
    assert "measure[0].products[1] = 'measure:b': 'measure:' references are allowed only in `exempt`." in msg
    assert "measure[1].exempt[0] = 'measure:s232': names no measure of this scenario." in msg


def test_bad_toml_syntax(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\n[[measure]]\nid = "a"\nrate = 0.25.\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert str(path) in msg and "not valid TOML" in msg and "line 4" in msg


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert f"file not found: {path}" in str(err.value)
    assert "Check the path" in str(err.value)


def test_bad_extends(tmp_path):
    path = tmp_path / "child.toml"
    path.write_text('name = "c"\nextends = "baseline.toml"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert f"{path} → extends = 'baseline.toml': no such file ({tmp_path / 'baseline.toml'})." in msg
    assert "relative to this file" in msg


def test_error_in_parent_names_the_parent_file(tmp_path):
    (tmp_path / "parent.toml").write_text(
        'name = "p"\n[[measure]]\nid = "a"\nkind = "floor"\nimporter = "USA"\nrate = 15\n', encoding="utf-8")
    (tmp_path / "child.toml").write_text('name = "c"\nextends = "parent.toml"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "child.toml")
    assert "parent.toml → measure[0].rate = 15" in str(err.value)


MANY = """
    name = "many"
    stacking = "additve"
    colour = "red"

    [[measure]]
    id = "recip"
    kind = "reciprocal"
    importer = "USA"
    rates = { KOR = 25, JPM = 0.24 }
    exempt = ["list:annex_ii"]

    [[measure]]
    id = "autos"
    kind = "itme"
    importer = "USA"

    [[measure]]
    id = "metals"
    kind = "item"
    importer = "USA"
    products = ["72"]
    rate = 0.25
    precedance = 1

    [[measure]]
    id = "retal"
    kind = "retaliation"
    importer = "KRO"
    products = ["8703"]
    rate = 0.1
"""


def test_a_file_with_many_problems_lists_them_all(tmp_path):
    path = tmp_path / "many.toml"
    path.write_text(textwrap.dedent(MANY), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    e = err.value
    msg = str(e)
    expected = [
        "stacking = 'additve'",
        "colour",
        "measure[0].rates.KOR = 25",
        "measure[0].rates.JPM = 'JPM'",
        "measure[0].exempt[0] = 'list:annex_ii'",
        "measure[1].kind = 'itme'",
        "measure[2].precedance",
        "measure[3].importer = 'KRO'",
        "measure[3].products",
    ]
    for where in expected:
        assert f"{path} → {where}" in msg, where
    assert msg.startswith(f"{path}: {len(e.problems)} problems found")
    assert len(e.problems) == len(expected)
    # each problem on its own line, top-level keys first, then measures in file order
    lines = msg.splitlines()[1:]
    assert len(lines) == len(expected)
    order = [next(k for k, where in enumerate(expected) if where in line) for line in lines]
    assert order[:2] == sorted(order[:2]) and order[2:] == sorted(order[2:])
    assert "Did you mean 'item'?" in msg and "Did you mean 'precedence'?" in msg and "Did you mean 0.25?" in msg
    assert "Did you mean one of 'KOR'" in msg or "Did you mean 'KOR'" in msg


# ------------------------------------------------------------------ data errors
def test_datasets_unknown_list_and_table():
    with pytest.raises(DataError) as err:
        datasets.load_list("annex_ii_2025_04_2")
    msg = str(err.value)
    assert "unknown list 'annex_ii_2025_04_2'" in msg and "'annex_ii_2025_04_02'" in msg
    assert "list_names()" in msg
    with pytest.raises(DataError, match=r"unknown rate table 'reciprocal_2025_4'.*reciprocal_2025_04"):
        datasets.load_rate_table("reciprocal_2025_4")


def test_datasets_world_and_elasticity_errors():
    with pytest.raises(DataError, match=r"unknown regions 'region11'.*'region10', 'icio81'.*Did you mean 'region10'"):
        datasets.load_world("region11")
    with pytest.raises(DataError, match=r"keep names 'DEV', which is not an ICIO economy. Did you mean 'DEU'"):
        datasets.load_world(keep=["DEV"])
    with pytest.raises(DataError, match=r"no ICIO data for year 2015; available years: \[2019, 2020, 2021, 2022\]"):
        datasets.load_world(year=2015)
    with pytest.raises(DataError, match=r"unknown elasticity source 'cp2016'. Did you mean 'cp2015'.*Valid sources"):
        datasets.load_elasticities("cp2016")
    with pytest.raises(DataError, match=r"leaves 79 ICIO economies unassigned.*'default'"):
        datasets.load_world({"KOR": "KOR", "USA": "USA"})


def test_message_helpers():
    assert did_you_mean("kor", ["KOR", "JPN"]) == "Did you mean 'KOR'?"
    assert did_you_mean("zzzz", ["KOR", "JPN"]) == ""
    assert shorten_list(range(10), limit=3) == "[0, 1, 2, ... (7 more)]"
    assert shorten_list(["a"]) == "[a]"
