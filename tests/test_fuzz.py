"""Fuzzed scenario files: every one loads or is rejected with file and key path, never a traceback.

The harness is tools/fuzz_scenarios.py (mutation families over the shipped scenario files);
here a fixed-seed sample of 2,000 files runs in CI, and each family's worst cases found so
far are pinned as regression tests.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffsim.cli import main as cli_main
from tariffsim.errors import ScenarioError
from tariffsim.scenario import load_scenario, scenario_from_dict

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
ITEM = b"name = 'x'\n[[measure]]\nid = 'a'\nkind = 'item'\nimporter = 'USA'\nrate = 0.1\n"
DEFICIT = b"name = 'x'\n[[measure]]\nid = 'd'\nkind = 'deficit'\npayer = 'KOR'\nrecipient = 'USA'\n"


def _harness():
    spec = importlib.util.spec_from_file_location("fuzz_scenarios", REPO / "tools" / "fuzz_scenarios.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_scenarios"] = module
    spec.loader.exec_module(module)
    return module


def test_two_thousand_fuzzed_files_load_or_fail_cleanly():
    report = _harness().fuzz(2000, seed=20261201)
    assert report.files == 2000
    details = "\n".join(f"{name} ({family}): {text}" for name, family, text in report.failures[:5])
    assert report.failures == [], report.summary() + "\n" + details
    # the mutations bite: most files are rejected, some survive (mutations of optional keys)
    assert report.rejected > 1000 and report.accepted > 50
    assert set(report.by_family) == set(_harness().FAMILIES)


@pytest.mark.parametrize(
    "payload, expected",
    [
        (b"\xff\xfename = 'x'\n", "is not UTF-8 text"),
        (b"name = 'caf\xc3\x28'\n", "is not UTF-8 text"),
        (b"x = " + b"[" * 2000 + b"]" * 2000 + b"\n", "nests arrays or tables too deeply"),
        (b"name = 'x'\n[[measure]\n", "not valid TOML"),
        (b"name = 'x'\n[[measure]]\nid = 'a'\nkind = ['item']\n", "must be a string, got list"),
        (b"name = 'x'\n[[measure]]\nid = 'a'\nkind = { x = 'item' }\n", "must be a string, got dict"),
        (b"name = 'x'\nextends = ''\n", "is empty"),
        (b"name = 'x'\nextends = '..'\n", "is a folder"),
        (DEFICIT + b"amount = inf\n", "is not a finite number"),
        (ITEM.replace(b"0.1", b"nan"), "is not a finite number"),
        (ITEM + b"all_in = 'yes'\n", "is not a boolean"),
        (ITEM + b"effective = 0001-01-01\n", "check the year"),
        (b"name = 'x'\neffective = 9999-12-31\n", "check the year"),
        (ITEM + b"partners = ['KOR']\nexclude_partners = ['KOR']\n", "covers nothing"),
        (b"name = 'x'\n[parameters]\ntrade_elasticity = { C299 = 4.0 }\n", "Did you mean 'C29'?"),
    ],
)
def test_bad_file_gives_one_clear_error(tmp_path, payload, expected):
    path = tmp_path / "bad.toml"
    path.write_bytes(payload)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert expected in str(err.value)
    assert "bad.toml" in str(err.value)


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbfname = 'bom'\n")
    assert load_scenario(path).name == "bom"


def test_validate_cli_exits_2_without_traceback(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_bytes(b"\xff\xfe garbage")
    assert cli_main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "bad.toml" in err


def test_scenario_from_dict_rejects_dates_out_of_range():
    with pytest.raises(ScenarioError, match="check the year"):
        scenario_from_dict({"name": "x", "effective": dt.date(1, 1, 1)})


# --------------------------------------------------------------------------- hypothesis
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.dates(), st.sampled_from(["KOR", "USA", "C29", "list:annex_ii_current", "8703", ""]),
)
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
_KEYS = st.sampled_from(["id", "kind", "importer", "rate", "rates", "products", "partners", "exclude_partners",
                         "exempt", "effective", "until", "all_in", "precedence", "coverage", "amount", "sectors",
                         "authority", "content", "content_share", "utilization", "published", "replaces", "stacking",
                         "bogus"])
_MEASURES = st.dictionaries(_KEYS, _VALUES, max_size=8).map(
    lambda m: {"kind": "item", "id": "m", **m} if "kind" not in m else m)


@settings(max_examples=300, deadline=None)
@given(
    measures=st.lists(_MEASURES, max_size=3),
    top=st.dictionaries(st.sampled_from(["name", "effective", "stacking", "extends", "disable", "models"]), _VALUES,
                        max_size=3),
)
def test_any_scenario_dict_validates_or_gives_a_scenario_error(measures, top):
    data = {"name": "h", **top, "measure": measures}
    try:
        scenario_from_dict(data, base_dir=SCENARIOS / "korea_us_2025")
    except ScenarioError as err:
        assert err.problems and all(p.path for p in err.problems)
