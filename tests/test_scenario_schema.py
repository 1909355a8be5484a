"""Scenario files: every measure kind parses; extends / overrides / disable precedence; dates."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from tariffsim.errors import ScenarioError
from tariffsim.scenario import load_scenario, scenario_from_dict
from tariffsim.scenario.schema import MEASURE_KINDS

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios" / "korea_us_2025"

ONE_OF_EACH = {
    "base": {"importer": "KOR", "rate": 0.05},
    "reciprocal": {"importer": "USA", "rates": {"KOR": 0.25, "default": 0.1}},
    "item": {"importer": "USA", "products": ["8703", "8708.29"], "rate": 0.25, "precedence": 1},
    "retaliation": {"importer": "KOR", "partners": ["USA"], "sectors": ["C29"], "rate": 0.1, "coverage": 0.5},
    "floor": {"importer": "USA", "partners": ["KOR"], "rate": 0.15},
    "cap": {"importer": "USA", "partners": ["KOR"], "rate": 0.15},
    "exemption": {"importer": "USA", "partners": ["KOR"], "products": ["8542"]},
    "quota": {"importer": "USA", "partners": ["KOR"], "products": ["72"], "in_quota_rate": 0.0,
              "over_quota_rate": 0.5, "quota": 1000.0},
    "ntb": {"importer": "KOR", "partners": ["USA"], "sectors": ["SERV"], "rate": -0.05},
    "productivity": {"country": "KOR", "sectors": ["C301"], "change": 0.02},
    "deficit": {"payer": "KOR", "recipient": "USA", "amount": 20000.0},
    "purchase": {"importer": "KOR", "exporter": "USA", "sectors": ["B06"], "amount": 10000.0},
    "currency": {"country": "KOR", "appreciation": 0.05, "pass_through": 0.5},
}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_every_kind_parses():
    assert set(ONE_OF_EACH) == set(MEASURE_KINDS)
    measures = [{"id": f"m_{kind}", "kind": kind, **fields} for kind, fields in ONE_OF_EACH.items()]
    s = scenario_from_dict({"name": "all", "measure": measures})
    assert [m.kind for m in s.measures] == list(ONE_OF_EACH)
    item = s.measure("m_item")
    assert item.products == ("8703", "8708.29") and item.rate == 0.25 and item.precedence == 1
    assert s.measure("m_retaliation").coverage == 0.5
    assert s.measure("m_currency").pass_through == 0.5
    # frozen: a measure cannot be changed after validation
    with pytest.raises(ValueError, match="frozen"):  # pydantic's ValidationError (frozen_instance)
        item.rate = 0.5


def test_shipped_scenarios_load():
    for path in sorted(SCENARIOS.glob("*.toml")):
        s = load_scenario(path)
        assert s.measures, path


def test_liberation_day_inherits_the_base_measure():
    # liberation_day.toml is a dated view of the US law file, which extends the 2024 baseline
    s = load_scenario(SCENARIOS / "liberation_day.toml")
    ids = [m.id for m in s.measures]
    assert ids[0] == "us_base"
    assert {"recip_annex_i", "s232_autos", "s232_parts", "s232_steel_25", "s232_aluminum_25"} <= set(ids)
    law = SCENARIOS / ".." / "us_law" / "us_tariffs_2025_2026.toml"
    assert s.parents == (str(law), str(law.parent / ".." / "korea_us_2025" / "baseline_2024.toml"))
    assert s.effective == dt.date(2025, 4, 9)
    assert s.stacking == "mutual_exclusion"
    # s232_parts starts on 3 May: not in force on 9 April, in force on 3 May
    assert "s232_parts" not in [m.id for m in s.in_force()]
    assert "s232_parts" in [m.id for m in s.in_force(dt.date(2025, 5, 3))]
    # the liberation-day country rates were in force for a single day
    assert "recip_annex_i" in [m.id for m in s.in_force()]
    assert "recip_annex_i" not in [m.id for m in s.in_force(dt.date(2025, 4, 10))]
    assert "recip_annex_i" not in [m.id for m in s.in_force(dt.date(2025, 4, 8))]


PARENT = """
    name = "parent"
    effective = 2025-04-09
    stacking = "additive"

    [[measure]]
    id = "recip"
    kind = "reciprocal"
    importer = "USA"
    rates = { KOR = 0.25, default = 0.10 }
    exempt = ["list:annex_ii_2025_04_02"]

    [[measure]]
    id = "autos"
    kind = "item"
    importer = "USA"
    products = ["8703"]
    rate = 0.25

    [[measure]]
    id = "metals"
    kind = "item"
    importer = "USA"
    products = ["72", "73"]
    rate = 0.25
"""


def test_extends_override_and_disable(tmp_path):
    write(tmp_path, "parent.toml", PARENT)
    child = write(tmp_path, "child.toml", """
        name = "child"
        extends = "parent.toml"
        disable = ["metals"]

        [[measure]]
        id = "recip"            # whole-measure replacement: exempt is NOT inherited
        kind = "reciprocal"
        importer = "USA"
        rates = { KOR = 0.15 }

        [overrides.autos]
        rate = 0.15
        all_in = true
    """)
    s = load_scenario(child)
    assert [m.id for m in s.measures] == ["recip", "autos"]
    recip = s.measure("recip")
    assert recip.rates == {"KOR": 0.15}
    assert recip.exempt == ()  # replaced whole, not merged
    autos = s.measure("autos")
    assert (autos.rate, autos.all_in, autos.products) == (0.15, True, ("8703",))  # patched fields only
    # settings not written in the child are inherited
    assert s.stacking == "additive" and s.effective == dt.date(2025, 4, 9)
    text = "\n".join(s.applied_overrides)
    assert "measure 'recip' replaces the inherited one" in text
    assert "overrides autos.rate=0.15, all_in=True" in text
    assert "disables metals" in text
    assert len(s.applied_overrides) == 3
    # origin of each measure, for error messages
    assert s.origin("autos") == (str(child), "overrides.autos")
    assert s.origin("recip") == (str(child), "measure[0]")


def test_overrides_beat_the_childs_own_measure_and_disable_beats_both(tmp_path):
    write(tmp_path, "parent.toml", PARENT)
    child = write(tmp_path, "child.toml", """
        name = "child"
        extends = "parent.toml"
        disable = ["autos"]

        [[measure]]
        id = "metals"
        kind = "item"
        importer = "USA"
        products = ["76"]
        rate = 0.5

        [overrides.metals]
        rate = 0.3

        [overrides.autos]
        rate = 0.0
    """)
    s = load_scenario(child)
    assert s.measure("metals").rate == 0.3 and s.measure("metals").products == ("76",)
    assert "autos" not in [m.id for m in s.measures]


def test_three_level_chain_records_every_step(tmp_path):
    write(tmp_path, "a.toml", PARENT)
    write(tmp_path, "b.toml", 'name = "b"\nextends = "a.toml"\n[overrides.recip]\nrates = { KOR = 0.2 }\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    c = write(sub, "c.toml", 'name = "c"\nextends = "../b.toml"\ndisable = ["autos"]\nstacking = "max"\n')
    s = load_scenario(c)
    assert s.measure("recip").rates == {"KOR": 0.2}
    assert s.measure("recip").exempt == ("list:annex_ii_2025_04_02",)  # a patch keeps other fields
    assert s.stacking == "max"
    assert len(s.parents) == 2 and s.parents[1].endswith("a.toml")
    assert len(s.applied_overrides) == 2
    assert "b.toml: overrides recip.rates={'KOR': 0.2}" in s.applied_overrides[0]
    assert s.applied_overrides[1].endswith("c.toml: disables autos")


def test_override_validated_like_a_measure(tmp_path):
    write(tmp_path, "parent.toml", PARENT)
    child = write(tmp_path, "child.toml", """
        name = "child"
        extends = "parent.toml"
        disable = ["metalz"]
        [overrides.autos]
        rate = 25
        [overrides.nothere]
        rate = 0.1
    """)
    with pytest.raises(ScenarioError) as err:
        load_scenario(child)
    paths = [p.path for p in err.value.problems]
    assert "overrides.autos.rate = 25" in paths
    assert "overrides.nothere" in paths
    assert "disable = 'metalz'" in paths
    msg = str(err.value)
    assert "Did you mean 0.25?" in msg and "Did you mean 'metals'?" in msg


def test_inheritance_cycle(tmp_path):
    write(tmp_path, "a.toml", 'name = "a"\nextends = "b.toml"\n')
    write(tmp_path, "b.toml", 'name = "b"\nextends = "a.toml"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "a.toml")
    msg = str(err.value)
    assert "inheritance cycle" in msg and "a.toml" in msg and "b.toml" in msg
    assert "Remove one of the `extends`" in msg
    # self-reference
    write(tmp_path, "self.toml", 'name = "s"\nextends = "self.toml"\n')
    with pytest.raises(ScenarioError, match="inheritance cycle"):
        load_scenario(tmp_path / "self.toml")


def test_duplicate_ids_rejected():
    with pytest.raises(ScenarioError, match=r"measure\[1\]\.id = 'x'.*already used by measure\[0\]"):
        scenario_from_dict({"name": "d", "measure": [
            {"id": "x", "kind": "floor", "importer": "USA", "rate": 0.15},
            {"id": "x", "kind": "cap", "importer": "USA", "rate": 0.15},
        ]})


def test_in_force_filters_by_effective_and_until():
    s = scenario_from_dict({"name": "t", "measure": [
        {"id": "always", "kind": "floor", "importer": "USA", "rate": 0.1},
        {"id": "from_may", "kind": "floor", "importer": "USA", "rate": 0.1, "effective": dt.date(2025, 5, 1)},
        {"id": "april", "kind": "floor", "importer": "USA", "rate": 0.1,
         "effective": dt.date(2025, 4, 1), "until": dt.date(2025, 5, 1)},
    ]})
    ids = lambda d: [m.id for m in s.in_force(d)]  # noqa: E731
    assert ids(None) == ["always", "from_may", "april"]  # no date: everything
    assert ids(dt.date(2025, 3, 31)) == ["always"]
    assert ids(dt.date(2025, 4, 1)) == ["always", "april"]  # effective is inclusive
    assert ids(dt.date(2025, 4, 30)) == ["always", "april"]
    assert ids(dt.date(2025, 5, 1)) == ["always", "from_may"]  # until is exclusive
    later = s.with_date(dt.date(2025, 4, 15))
    assert [m.id for m in later.in_force()] == ["always", "april"]
    assert later.name == "t@2025-04-15"


def test_until_must_follow_effective():
    with pytest.raises(ScenarioError, match=r"until = '2025-04-01'.*is not after effective = 2025-04-01"):
        scenario_from_dict({"name": "t", "measure": [
            {"id": "a", "kind": "floor", "importer": "USA", "rate": 0.1,
             "effective": dt.date(2025, 4, 1), "until": dt.date(2025, 4, 1)}]})


def test_scenario_from_dict_resolves_extends_relative_to_base_dir(tmp_path):
    write(tmp_path, "parent.toml", PARENT)
    s = scenario_from_dict({"name": "d", "extends": "parent.toml", "disable": ["recip"]}, base_dir=tmp_path)
    assert [m.id for m in s.measures] == ["autos", "metals"]
    assert s.file is None and s.applied_overrides == ("d: disables recip",)


def test_measure_lookup_suggests():
    floor = {"id": "s232_autos", "kind": "floor", "importer": "USA", "rate": 0.1}
    s = scenario_from_dict({"name": "d", "measure": [floor]})
    with pytest.raises(KeyError, match="Did you mean 's232_autos'"):
        s.measure("s232_auto")


def test_disabling_a_measure_drops_references_to_it(tmp_path):
    parent = write(
        tmp_path,
        "parent.toml",
        """
        name = "parent"
        [[measure]]
        id = "autos"
        kind = "item"
        importer = "USA"
        products = ["8703"]
        rate = 0.25
        [[measure]]
        id = "recip"
        kind = "reciprocal"
        importer = "USA"
        rates = { default = 0.10 }
        exempt = ["measure:autos", "72"]
        [[measure]]
        id = "kor_autos_off"
        kind = "exemption"
        importer = "USA"
        partners = ["KOR"]
        measures = ["autos"]
        [[measure]]
        id = "kor_both_off"
        kind = "exemption"
        importer = "USA"
        partners = ["KOR"]
        measures = ["autos", "recip"]
    """,
    )
    child = write(
        tmp_path,
        "child.toml",
        f"""
        name = "child"
        extends = "{parent.name}"
        disable = ["autos"]
    """,
    )
    s = load_scenario(child)
    ids = [m.id for m in s.measures]
    assert "autos" not in ids
    assert "kor_autos_off" not in ids  # it lifted nothing else
    assert s.measure("kor_both_off").measures == ("recip",)
    assert s.measure("recip").exempt == ("72",)
    assert any("drops references" in note for note in s.applied_overrides)
