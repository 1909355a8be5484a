"""The law vocabulary of the compiler on hand-made import lines, answers worked out by hand.

Rules: content splits a line (232 derivatives on metal content), utilisation shares (USMCA),
end-use shares (note 33(h)(ii)), per-measure additive stacking (fentanyl, 301), floors,
retroactive amendments (as applied / as published), duties by legal authority.
The toy world and line helpers are those of tests/test_compiler.py.
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffsim.errors import ScenarioError
from tariffsim.scenario import scenario_from_dict
from tariffsim.scenario.schema import AUTHORITIES
from tariffsim.schedule import prepare_schedule
from test_compiler import WORLD, item, lines, rate, recip, schedule

DATASETS = Path(__file__).resolve().parents[1] / "tariffsim" / "datasets"


def _table(name: str) -> pd.DataFrame:
    """An embedded share table read straight from its file (not through the package)."""
    with gzip.open(DATASETS / name, "rt") as fh:
        return pd.read_csv(fh, dtype={"hs10": str, "hs2": str})


def _duties(sched, theta=None) -> dict[str, float]:
    """USD duty (new) by partner, first scenario."""
    acc = sched.line_accounting(theta)
    return dict(zip(acc["partner"], acc["duty_new"][0]))


# ----------------------------------------------------------------------- content
def test_flat_content_share_splits_the_line():
    # 100 USD of a steel derivative from KOR, base 0: 40% metal content pays 50% (232),
    # the other 60% pays the 25% reciprocal duty (232 excludes the reciprocal only on its part)
    rows = [("7326908688", "KOR", "C24A", 100, 0.0)]
    s = schedule([recip({"KOR": 0.25}, exempt=["measure:deriv"]),
                  item("deriv", ["7326"], 0.50, content_share=0.4)], rows)
    assert rate(s, "KOR", "C24A") == pytest.approx(0.4 * 0.50 + 0.6 * 0.25)
    assert _duties(s)["KOR"] == pytest.approx(100 * (0.4 * 0.50 + 0.6 * 0.25))
    theta = s.vector({"deriv.content_share": 0.9})
    assert rate(s, "KOR", "C24A", theta) == pytest.approx(0.9 * 0.50 + 0.1 * 0.25)


def test_bea_content_kinds_sit_side_by_side():
    """Steel and aluminium duties on their own content shares; the rest pays the reciprocal."""
    metal = _table("metal_content_hs10.csv.gz").set_index("hs10")
    hs = "3212100000"
    st_, al = metal.loc[hs, "steel"], metal.loc[hs, "aluminum"]
    assert 0 < st_ < 1 and 0 < al < 1 and st_ + al < 1
    rows = [(hs, "KOR", "C24A", 200, 0.0)]
    s = schedule([recip({"KOR": 0.25}, exempt=["measure:steel", "measure:alu"]),
                  item("steel", [hs], 0.50, content="steel"), item("alu", [hs], 0.30, content="aluminum")], rows)
    expected = st_ * 0.50 + al * 0.30 + (1 - st_ - al) * 0.25
    assert rate(s, "KOR", "C24A") == pytest.approx(expected, rel=1e-9)


def test_metal_content_absent_line_counts_whole():
    rows = [("9999990000", "KOR", "C24A", 100, 0.0)]
    s = schedule([item("deriv", ["9999"], 0.5, content="metal")], rows)
    assert rate(s, "KOR", "C24A") == pytest.approx(0.5)


# ------------------------------------------------------------------- utilisation
def test_usmca_utilization_exempts_the_qualifying_share():
    usmca = _table("usmca_shares_2025.csv.gz")
    row = usmca[(usmca["iso3"] == "CAN") & (usmca["hs10"] == "8708103020")].iloc[0]
    u = float(row["share"])
    assert 0 < u < 1
    rows = [("8708103020", "CAN", "C29", 100, 0.0), ("8708103020", "KOR", "C29", 100, 0.0)]
    s = schedule([item("fent", ["8708"], 0.35, utilization="usmca", stacking="additive")], rows)
    d = _duties(s)
    assert d["CAN"] == pytest.approx(100 * 0.35 * (1 - u), rel=1e-9)
    assert d["KOR"] == pytest.approx(100 * 0.35)  # no USMCA share outside Canada / Mexico


def test_flat_utilization_is_a_parameter():
    rows = [("8708100000", "KOR", "C29", 100, 0.0)]
    s = schedule([item("fent", ["8708"], 0.20, utilization=0.25)], rows)
    assert rate(s, "KOR", "C29") == pytest.approx(0.20 * 0.75)
    assert rate(s, "KOR", "C29", s.vector({"fent.utilization": 1.0})) == pytest.approx(0.0)


# ---------------------------------------------------------------------- end use
def test_end_use_share_covers_part_of_general_purpose_lines_only():
    # auto parts list with heading 8471: only the end-use share of 8471 pays the 232 duty; the
    # rest of 8471 pays the reciprocal duty; the 8708 line pays 232 in full
    rows = [("8471300100", "KOR", "C29", 100, 0.0), ("8708100000", "KOR", "C29", 100, 0.0)]
    measures = [recip({"KOR": 0.10}, exempt=["measure:parts"]),
                item("parts", ["8471", "8708"], 0.25, end_use={"products": ["8471"], "share": 0.2})]
    s = schedule(measures, rows)
    assert _duties(s)["KOR"] == pytest.approx(100 * (0.2 * 0.25 + 0.8 * 0.10) + 100 * 0.25)
    zero = s.vector({"parts.end_use_share": 0.0})  # the law's default: no 8471 line is a vehicle part
    assert _duties(s, zero)["KOR"] == pytest.approx(100 * 0.10 + 100 * 0.25)
    default = schedule([recip({"KOR": 0.10}, exempt=["measure:parts"]),
                        item("parts", ["8471", "8708"], 0.25, end_use={"products": ["8471"]})], rows)
    assert _duties(default)["KOR"] == pytest.approx(100 * 0.10 + 100 * 0.25)


def test_share_parameters_batch_equals_loop():
    rows = [("8471300100", "KOR", "C29", 100, 0.0), ("7326908688", "KOR", "C24A", 50, 0.02),
            ("8708100000", "JPN", "C29", 80, 0.025)]
    measures = [recip({"KOR": 0.25, "JPN": 0.15}, exempt=["measure:parts", "measure:deriv"]),
                item("parts", ["8471", "8708"], 0.25, end_use={"products": ["8471"], "share": 0.3}),
                item("deriv", ["7326"], 0.5, content_share=0.4),
                item("fent", [], 0.1, partners=["JPN"], utilization=0.5, stacking="additive")]
    s = schedule(measures, rows)
    rng = np.random.default_rng(0)
    theta = np.tile(s.defaults, (6, 1))
    for name in ("parts.end_use_share", "deriv.content_share", "fent.utilization"):
        theta[:, s.parameter_index(name)] = rng.uniform(0, 1, 6)
    batch = s.evaluate(theta)
    loop = np.concatenate([s.evaluate(t) for t in theta])
    np.testing.assert_allclose(batch, loop, rtol=0, atol=1e-15)
    acc = s.line_accounting(theta)
    for k, t in enumerate(theta):
        np.testing.assert_allclose(acc["duty_new"][k], s.line_accounting(t)["duty_new"][0], rtol=1e-12)


# --------------------------------------------------------------------- stacking
# truth table on one KOR line (base 2%): reciprocal 25% (excluded by 232), 232 item 25%,
# fentanyl 10% additive, 301 7.5% additive, floor 15% all-in replacing the reciprocal
@pytest.mark.parametrize(("on", "expected"), [
    ({"recip"}, 0.02 + 0.25),
    ({"recip", "s232"}, 0.02 + 0.25),  # 232 excludes the reciprocal duty
    ({"recip", "fent"}, 0.02 + 0.25 + 0.10),  # fentanyl stacks on the reciprocal
    ({"recip", "s232", "fent"}, 0.02 + 0.25 + 0.10),  # ... and on 232
    ({"recip", "s232", "fent", "s301"}, 0.02 + 0.25 + 0.10 + 0.075),  # 301 stacks too
    ({"recip", "floor"}, 0.15),  # the floor replaces the reciprocal duty (all-in)
    ({"recip", "floor", "fent"}, 0.15 + 0.10),
    ({"recip", "floor", "s232"}, 0.02 + 0.25),  # 232 excludes the floor as it does the reciprocal
    (set(), 0.02),
])
def test_stacking_truth_table(on, expected):
    rows = [("8708100000", "KOR", "C29", 100, 0.02)]
    measures = [recip({"KOR": 0.25}, exempt=["measure:s232"]),
                item("s232", ["8708"], 0.25),
                item("fent", [], 0.10, stacking="additive"),
                item("s301", [], 0.075, stacking="additive"),
                {"id": "floor", "kind": "floor", "importer": "USA", "partners": ["KOR"], "rate": 0.15,
                 "exempt": ["measure:s232"]}]
    s = schedule(measures, rows)
    theta = s.vector({f"{m}.enabled": float(m in on) for m in ("recip", "s232", "fent", "s301", "floor")})
    assert rate(s, "KOR", "C29", theta) == pytest.approx(expected)


def test_auto_precedence_over_metals():
    rows = [("8708100000", "KOR", "C29", 100, 0.0)]
    s = schedule([item("metals", ["8708"], 0.50), item("autos", ["8708"], 0.25, precedence=1)], rows)
    assert rate(s, "KOR", "C29") == pytest.approx(0.25)


# ------------------------------------------------------------- by authority
def test_duties_by_authority_add_up_and_floors_and_caps_own_their_duty():
    rows = [("8703230190", "KOR", "C29", 100, 0.025), ("8471300100", "KOR", "C29", 100, 0.0),
            ("8708100000", "JPN", "C29", 100, 0.0), ("7326908688", "JPN", "C24A", 100, 0.0)]
    measures = [recip({"KOR": 0.25, "JPN": 0.24}, exempt=["measure:autos", "measure:deriv"],
                      authority="ieepa_reciprocal"),
                item("autos", ["8703", "8708", "8471"], 0.25, authority="s232_autos",
                     end_use={"products": ["8471"], "share": 0.2}),
                item("deriv", ["7326"], 0.5, content_share=0.4, authority="s232_steel_aluminum"),
                {"id": "kfloor", "kind": "floor", "importer": "USA", "partners": ["KOR"], "rate": 0.15,
                 "products": ["8471"], "authority": "ieepa_reciprocal"},
                {"id": "jcap", "kind": "cap", "importer": "USA", "partners": ["JPN"], "rate": 0.15,
                 "products": ["8708"], "authority": "other"}]
    s = schedule(measures, rows)
    acc = s.line_accounting()
    by = dict(zip(acc["authorities"], acc["by_authority"][0]))
    kor, jpn = list(acc["partner"]).index("KOR"), list(acc["partner"]).index("JPN")
    # KOR: car 2.5 mfn + 25 autos; 8471: 20% of 100 at 25% autos = 5, 80 at the 15% floor = 12
    assert by["mfn"][kor] == pytest.approx(2.5)
    assert by["s232_autos"][kor] == pytest.approx(30.0)
    assert by["ieepa_reciprocal"][kor] == pytest.approx(12.0)
    # JPN: 8708 capped at 15% all-in (the cap levies it); 7326: 40 at 50% + 60 at 24%
    assert by["other"][jpn] == pytest.approx(15.0)
    assert by["s232_autos"][jpn] == pytest.approx(0.0)
    assert by["s232_steel_aluminum"][jpn] == pytest.approx(20.0)
    assert by["ieepa_reciprocal"][jpn] == pytest.approx(0.6 * 100 * 0.24)
    np.testing.assert_allclose(acc["by_authority"].sum(axis=1), acc["duty_new"], rtol=1e-12)
    names, arr = s.evaluate_by_authority()
    assert names[0] == "mfn" and set(names) <= set(AUTHORITIES)
    np.testing.assert_allclose(arr.sum(axis=1), s.evaluate(), rtol=0, atol=1e-14)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=6, max_size=6), st.sampled_from(["mutual_exclusion", "additive", "max"]))
def test_authority_split_always_adds_up(values, rule):
    rows = [("8703230190", "KOR", "C29", 100, 0.025), ("8471300100", "KOR", "C29", 60, 0.0),
            ("7326908688", "JPN", "C24A", 40, 0.03)]
    measures = [recip({"KOR": 0.25, "JPN": 0.24}, exempt=["measure:autos"], authority="ieepa_reciprocal"),
                item("autos", ["8703", "8471"], 0.25, authority="s232_autos",
                     end_use={"products": ["8471"], "share": 0.2}),
                item("metals", ["8703", "7326"], 0.5, content_share=0.4, authority="s232_steel_aluminum"),
                item("fent", [], 0.2, stacking="additive", authority="ieepa_fentanyl", utilization=0.3),
                {"id": "floor", "kind": "floor", "importer": "USA", "partners": ["KOR"], "rate": 0.15,
                 "authority": "ieepa_reciprocal"},
                {"id": "cap", "kind": "cap", "importer": "USA", "partners": ["JPN"], "rate": 0.2}]
    s = schedule(measures, rows, stacking=rule)
    names = ("autos.end_use_share", "metals.content_share", "fent.utilization", "autos.rate", "metals.rate",
             "floor.rate")
    theta = s.vector(dict(zip(names, values)))
    acc = s.line_accounting(theta)
    np.testing.assert_allclose(acc["by_authority"].sum(axis=1), acc["duty_new"], rtol=1e-12, atol=1e-9)


# --------------------------------------------------------- retroactive amendments
def _retro(**kw):
    data = {"name": "retro", "effective": "2025-04-09", "measure": [
        {"id": "us_base", "kind": "base", "importer": "USA", "schedule": "hts_2024"},
        recip({"KOR": 0.25}, exempt=["measure:electronics"]),
        {"id": "electronics", "kind": "exemption", "importer": "USA", "products": ["8471"],
         "measures": ["recip"], "effective": "2025-04-05", "published": "2025-04-11"}]}
    rows = [("8471300100", "KOR", "C29", 100, 0.0)]
    return scenario_from_dict(data), lines(*rows)


def test_retroactive_exemption_as_applied_and_as_published():
    scen, ln = _retro()
    applied = prepare_schedule(scen, WORLD, lines=ln)
    known = prepare_schedule(scen, WORLD, lines=ln, as_published=True)
    assert rate(applied, "KOR", "C29") == pytest.approx(0.0)  # CBP applied it from April 5
    assert rate(known, "KOR", "C29") == pytest.approx(0.25)  # on April 9 nobody knew it yet
    later = prepare_schedule(scen, WORLD, lines=ln, date=dt.date(2025, 4, 11), as_published=True)
    assert rate(later, "KOR", "C29") == pytest.approx(0.0)


def test_dated_vector_as_published():
    scen, ln = _retro()
    s = prepare_schedule(scen, WORLD, lines=ln, all_dates=True)
    d = dt.date(2025, 4, 9)
    assert rate(s, "KOR", "C29", s.dated_vector(d)) == pytest.approx(0.0)
    assert rate(s, "KOR", "C29", s.dated_vector(d, as_published=True)) == pytest.approx(0.25)


# ------------------------------------------------------------------- validation
def test_unknown_authority_and_line_rules_elsewhere_are_reported():
    with pytest.raises(ScenarioError, match="authority"):
        scenario_from_dict({"name": "x", "measure": [item("a", ["8703"], 0.25, authority="s232_cars")]})
    data = {"name": "x", "measure": [{"id": "r", "kind": "retaliation", "importer": "KOR", "sectors": ["C29"],
                                      "rate": 0.1, "content_share": 0.4}]}
    with pytest.raises(ScenarioError, match="line-level import data"):
        scenario_from_dict(data)


# ------------------------------------------------------------------ FTA utilisation
def _fta_lines(*rows):
    """rows: (hs10, partner, value, mfn, pref); base_rate as built (full use) = pref."""
    ln = lines(*[(h, p, "C29", v, pref) for h, p, v, _, pref in rows])
    return type(ln)(**{**{f: getattr(ln, f) for f in ("importer", "hs10", "partner_code", "partner_labels", "sector",
                                                     "value", "base_rate", "has_specific")},
                       "mfn_rate": np.array([r[3] for r in rows], dtype=float),
                       "pref_rate": np.array([r[4] for r in rows], dtype=float)})


def test_base_fta_utilization_flat_and_from_the_tracker_shares():
    rows = [("8703230190", "KOR", 100, 0.025, 0.0), ("8703230190", "CAN", 100, 0.025, 0.0)]

    def base_rate(utilization):
        base = {**{"id": "us_base", "kind": "base", "importer": "USA", "schedule": "hts_2024"},
                "utilization": utilization}
        s = prepare_schedule(scenario_from_dict({"name": "fta", "measure": [base]}), WORLD, lines=_fta_lines(*rows))
        return rate(s, "KOR", "C29"), rate(s, "ROW", "C29")  # CAN lines sit in ROW of the toy world

    assert base_rate(1.0) == (pytest.approx(0.0), pytest.approx(0.0))
    kor, can = base_rate(0.6)
    assert kor == pytest.approx(0.4 * 0.025)  # base = u * pref + (1 - u) * MFN
    assert can == pytest.approx(0.0)  # Canada / Mexico keep their USMCA shares of the line data
    share = _table("fta_utilization_hs2.csv.gz").set_index(["hs2", "iso3"])["share"].get(("87", "KOR"), 0.0)
    kor, _ = base_rate("mfn_exemption_shares")
    assert kor == pytest.approx((1 - share) * 0.025, rel=1e-9)
