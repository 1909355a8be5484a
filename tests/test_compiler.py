"""The tariff-law compiler on hand-made import lines, with every answer worked out by hand.

The toy world has USA, KOR, JPN, EU27 and ROW and two sectors (C24A metals, C29 vehicles).
US import lines are made by hand (:func:`lines`); the world's flows only matter for
importers other than the US (sector cells).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffsim.errors import DataError
from tariffsim.lines import ProductLines
from tariffsim.scenario import scenario_from_dict
from tariffsim.schedule import compile_schedule, prepare_schedule
from tariffsim.world import TradeWorld

COUNTRIES = ("USA", "KOR", "JPN", "EU27", "ROW")
SECTORS = ("C24A", "C29")
BASE = {"id": "us_base", "kind": "base", "importer": "USA", "schedule": "hts_2024"}


def world(countries=COUNTRIES) -> TradeWorld:
    n = len(countries)
    flows = np.full((n, n, len(SECTORS)), 10.0)
    return TradeWorld(countries, SECTORS, flows, name="toy")


WORLD = world()


def lines(*rows) -> ProductLines:
    """rows: (hs10 digits, partner ISO3, sector, value USD, base rate)."""
    partners = sorted({r[1] for r in rows})
    return ProductLines(
        importer="USA",
        hs10=np.array([int(r[0]) for r in rows], dtype=np.int64),
        partner_code=np.array([partners.index(r[1]) for r in rows], dtype=np.int64),
        partner_labels=np.array(partners, dtype="U8"),
        sector=np.array([r[2] for r in rows]),
        value=np.array([float(r[3]) for r in rows]),
        base_rate=np.array([float(r[4]) for r in rows]),
        has_specific=np.zeros(len(rows), dtype=bool),
    )


def schedule(measures, rows, *, stacking="mutual_exclusion", w=WORLD, base=True, date=None, **top):
    data = {"name": "toy", "stacking": stacking, "measure": ([BASE] if base else []) + list(measures), **top}
    return prepare_schedule(scenario_from_dict(data), w, lines=lines(*rows), date=date)


def rate(sched, exporter, sector, theta=None, importer="USA", w=WORLD):
    """New trade-weighted rate on (exporter -> importer, sector), first scenario of the batch."""
    t = sched.evaluate(theta)[0]
    return t[w.country_index(exporter), w.country_index(importer), w.sector_index(sector)]


def recip(rates, **kw):
    return {"id": "recip", "kind": "reciprocal", "importer": "USA", "rates": rates, **kw}


def item(mid, products, r, **kw):
    return {"id": mid, "kind": "item", "importer": "USA", "products": products, "rate": r, **kw}


# KOR car (base 0), KOR steel (base 0), JPN car (base 2.5%)
STACK_ROWS = [
    ("8703230190", "KOR", "C29", 100, 0.0),
    ("7208100000", "KOR", "C24A", 50, 0.0),
    ("8703230190", "JPN", "C29", 100, 0.025),
]


# ------------------------------------------------------------------ stacking rules
@pytest.mark.parametrize(("rule", "kor_car", "jpn_car"), [
    # mutual exclusion: the 232 line pays 25% and no reciprocal duty
    ("mutual_exclusion", 0.25, 0.025 + 0.25),
    # additive: 25% + 15% (KOR) and 2.5% + 25% + 10% (JPN)
    ("additive", 0.40, 0.025 + 0.35),
    # max: max(25%, 15%) and 2.5% + max(25%, 10%)
    ("max", 0.25, 0.025 + 0.25),
])
def test_stacking_rules(rule, kor_car, jpn_car):
    s = schedule([recip({"KOR": 0.15, "JPN": 0.10}), item("autos", ["8703"], 0.25)], STACK_ROWS, stacking=rule)
    assert rate(s, "KOR", "C29") == pytest.approx(kor_car, abs=1e-15)
    assert rate(s, "JPN", "C29") == pytest.approx(jpn_car, abs=1e-15)
    assert rate(s, "KOR", "C24A") == pytest.approx(0.15, abs=1e-15)  # no item: reciprocal only
    assert rate(s, "JPN", "C24A") == 0.0  # no line, no rate


def test_max_rule_takes_the_higher_reciprocal():
    s = schedule([recip({"KOR": 0.30}), item("autos", ["8703"], 0.25)], STACK_ROWS, stacking="max")
    assert rate(s, "KOR", "C29") == pytest.approx(0.30)


# An auto part in chapter 73 is on both the autos-parts and the metals lists.
PART = [("7320100000", "KOR", "C24A", 10, 0.0)]


@pytest.mark.parametrize("rule", ["mutual_exclusion", "additive", "max"])
def test_precedence_autos_over_metals(rule):
    s = schedule([item("parts", ["7320"], 0.25, precedence=1), item("metals", ["73"], 0.50)], PART, stacking=rule)
    assert rate(s, "KOR", "C24A") == pytest.approx(0.25)  # not 50%, not 75%
    # reversed precedence: metals win
    s = schedule([item("parts", ["7320"], 0.25), item("metals", ["73"], 0.50, precedence=1)], PART, stacking=rule)
    assert rate(s, "KOR", "C24A") == pytest.approx(0.50)


def test_equal_precedence_items_combine_like_the_rule():
    ms = [item("parts", ["7320"], 0.25), item("metals", ["73"], 0.50)]
    assert rate(schedule(ms, PART), "KOR", "C24A") == pytest.approx(0.50)
    assert rate(schedule(ms, PART, stacking="additive"), "KOR", "C24A") == pytest.approx(0.75)


# ------------------------------------------------------------------ floors, all-in, caps
FLOOR_ROWS = [
    ("8708299000", "KOR", "C29", 100, 0.02),   # base below the floor
    ("6403990000", "KOR", "C24A", 100, 0.20),  # base above the floor
    ("8708299000", "JPN", "C29", 100, 0.02),   # not covered by the floor
]


def test_floor_is_all_in_and_replaces_the_reciprocal():
    floor = {"id": "kor_floor", "kind": "floor", "importer": "USA", "partners": ["KOR"], "rate": 0.15}
    s = schedule([recip({"KOR": 0.25, "JPN": 0.24}), floor], FLOOR_ROWS)
    assert rate(s, "KOR", "C29") == pytest.approx(0.15)  # max(15%, 2%): not 2% + 25%, not 2% + 15%
    assert rate(s, "KOR", "C24A") == pytest.approx(0.20)  # base above the floor: no additional duty
    assert rate(s, "JPN", "C29") == pytest.approx(0.02 + 0.24)
    # switching the floor off brings the reciprocal back
    off = s.vector({"kor_floor.enabled": 0})
    assert rate(s, "KOR", "C29", off) == pytest.approx(0.02 + 0.25)


def test_floor_gives_way_to_a_232_duty_under_mutual_exclusion():
    floor = {"id": "kor_floor", "kind": "floor", "importer": "USA", "partners": ["KOR"], "rate": 0.15}
    s = schedule([floor, item("metals", ["72"], 0.50)], [("7208100000", "KOR", "C24A", 10, 0.01)])
    assert rate(s, "KOR", "C24A") == pytest.approx(0.01 + 0.50)


def test_all_in_item_rate():
    rows = [("8703230190", "KOR", "C29", 100, 0.025), ("8704210000", "KOR", "C24A", 100, 0.25)]
    s = schedule([item("autos_deal", ["8703", "8704"], 0.15, all_in=True)], rows)
    assert rate(s, "KOR", "C29") == pytest.approx(0.15)  # 2.5% + 12.5%
    assert rate(s, "KOR", "C24A") == pytest.approx(0.25)  # truck at 25% MFN: no additional duty


def test_cap_never_cuts_the_base():
    cap = {"id": "kor_cap", "kind": "cap", "importer": "USA", "partners": ["KOR"], "rate": 0.15}
    s = schedule([recip({"KOR": 0.25, "JPN": 0.25}), cap], FLOOR_ROWS)
    assert rate(s, "KOR", "C29") == pytest.approx(0.15)  # min(2% + 25%, 15%)
    assert rate(s, "KOR", "C24A") == pytest.approx(0.20)  # min(45%, max(15%, 20%))
    assert rate(s, "JPN", "C29") == pytest.approx(0.27)  # not capped


# ------------------------------------------------------------------ exemptions
EXEMPT_ROWS = [
    ("8703230190", "KOR", "C29", 100, 0.0),
    ("7208100000", "KOR", "C24A", 100, 0.0),
    ("8703230190", "JPN", "C29", 100, 0.0),
]


def test_exemption_of_all_measures_and_its_switch():
    ex = {"id": "kor_cars", "kind": "exemption", "importer": "USA", "partners": ["KOR"], "products": ["8703"]}
    s = schedule([recip({"KOR": 0.25, "JPN": 0.24}), item("autos", ["8703"], 0.25), ex], EXEMPT_ROWS,
                 stacking="additive")
    assert rate(s, "KOR", "C29") == 0.0  # every additional duty lifted
    assert rate(s, "KOR", "C24A") == pytest.approx(0.25)  # other products untouched
    assert rate(s, "JPN", "C29") == pytest.approx(0.49)  # other partners untouched
    assert rate(s, "KOR", "C29", s.vector({"kor_cars.enabled": 0})) == pytest.approx(0.50)


def test_exemption_of_listed_measures_only():
    ex = {"id": "kor_cars", "kind": "exemption", "importer": "USA", "partners": ["KOR"], "products": ["8703"],
          "measures": ["autos"]}
    s = schedule([recip({"KOR": 0.25}), item("autos", ["8703"], 0.10), ex], EXEMPT_ROWS)
    # autos lifted: under mutual exclusion the reciprocal duty now applies to the car
    assert rate(s, "KOR", "C29") == pytest.approx(0.25)
    assert rate(s, "KOR", "C29", s.vector({"kor_cars.enabled": 0})) == pytest.approx(0.10)


def test_exempt_measure_reference():
    r = recip({"KOR": 0.25}, exempt=["measure:autos"])
    s = schedule([r, item("autos", ["8703"], 0.10)], EXEMPT_ROWS, stacking="additive")
    assert rate(s, "KOR", "C29") == pytest.approx(0.10)  # additive, but the car is taken out of the reciprocal
    assert rate(s, "KOR", "C24A") == pytest.approx(0.25)
    # the reference follows the switch: with autos off, the car pays the reciprocal duty again
    assert rate(s, "KOR", "C29", s.vector({"autos.enabled": 0})) == pytest.approx(0.25)


def test_annex_ii_list_is_exempt():
    # 0508.00.00 (coral, shells) and 2504.10.50 (graphite) are on the 2 April 2025 Annex II list
    rows = [("0508000000", "KOR", "C24A", 30, 0.0), ("2504105000", "KOR", "C24A", 10, 0.0),
            ("0509000000", "KOR", "C29", 60, 0.0)]
    s = schedule([recip({"KOR": 0.25}, exempt=["list:annex_ii_2025_04_02"])], rows)
    assert rate(s, "KOR", "C24A") == 0.0
    assert rate(s, "KOR", "C29") == pytest.approx(0.25)


def test_sector_and_hs_exempt_entries():
    r = recip({"KOR": 0.25}, exempt=["sector:C29", "7208.10"])
    rows = [("8703230190", "KOR", "C29", 1, 0.0), ("7208100000", "KOR", "C24A", 1, 0.0),
            ("7209100000", "KOR", "C24A", 3, 0.0)]
    s = schedule([r], rows)
    assert rate(s, "KOR", "C29") == 0.0
    assert rate(s, "KOR", "C24A") == pytest.approx(3 * 0.25 / 4)


# ------------------------------------------------------------------ partner rates
EU_ROWS = [
    ("8703230190", "DEU", "C29", 300, 0.0),
    ("8703230190", "FRA", "C29", 100, 0.0),
    ("7208100000", "FRA", "C24A", 100, 0.0),
    ("8703230190", "KOR", "C29", 100, 0.0),
    ("7208100000", "JPN", "C24A", 100, 0.0),
]


def test_eu27_key_covers_member_states_and_a_member_key_wins():
    s = schedule([recip({"EU27": 0.20, "KOR": 0.25, "default": 0.10})], EU_ROWS)
    assert rate(s, "EU27", "C29") == pytest.approx(0.20)
    assert rate(s, "EU27", "C24A") == pytest.approx(0.20)
    assert rate(s, "JPN", "C24A") == pytest.approx(0.10)  # default
    s = schedule([recip({"EU27": 0.20, "DEU": 0.30})], EU_ROWS)
    assert rate(s, "EU27", "C29") == pytest.approx((300 * 0.30 + 100 * 0.20) / 400)  # trade-weighted
    assert rate(s, "KOR", "C29") == 0.0  # no key, no default: not covered


def test_partner_specific_item_rates():
    s = schedule([item("autos", ["8703"], 0.25, rates={"EU27": 0.15, "KOR": 0.10})], EU_ROWS)
    assert rate(s, "EU27", "C29") == pytest.approx(0.15)
    assert rate(s, "KOR", "C29") == pytest.approx(0.10)
    assert "autos.rates.KOR" in s.parameter_names and "autos.rate" in s.parameter_names
    theta = s.vector({"autos.rates.EU27": 0.5})
    assert rate(s, "EU27", "C29", theta) == pytest.approx(0.5)


def test_partner_lists_and_exclusions():
    floor = {"id": "f", "kind": "floor", "importer": "USA", "partners": ["EU27"], "rate": 0.15}
    s = schedule([floor], EU_ROWS)
    assert rate(s, "EU27", "C29") == pytest.approx(0.15) and rate(s, "KOR", "C29") == 0.0
    s = schedule([recip({"default": 0.10}, exclude_partners=["EU27"])], EU_ROWS)
    assert rate(s, "EU27", "C29") == 0.0 and rate(s, "KOR", "C29") == pytest.approx(0.10)


def test_table_based_rates_with_explicit_keys_winning():
    rows = [("8703230190", "KOR", "C29", 1, 0.0), ("8703230190", "JPN", "C29", 1, 0.0),
            ("8703230190", "BRA", "C29", 1, 0.0)]
    r = recip({"JPN": 0.5, "default": 0.10}, table="reciprocal_2025_04")
    s = schedule([r], rows)
    assert rate(s, "KOR", "C29") == pytest.approx(0.25)  # EO 14257 Annex I: South Korea 25%
    assert rate(s, "JPN", "C29") == pytest.approx(0.50)  # the file's key beats the table's 24%
    assert rate(s, "ROW", "C29") == pytest.approx(0.10)  # Brazil is not in Annex I: default
    assert s.defaults[s.parameter_index("recip.rates.KOR")] == 0.25


# ------------------------------------------------------------------ sector cells (non-US)
def retaliation(mid, r, coverage, **kw):
    return {"id": mid, "kind": "retaliation", "importer": "KOR", "partners": ["USA"], "sectors": ["C29"],
            "rate": r, "coverage": coverage, **kw}


def test_partial_coverage_for_a_non_us_importer():
    kor_base = {"id": "kor_base", "kind": "base", "importer": "KOR", "rate": 0.05}
    s = schedule([kor_base, retaliation("ret", 0.20, 0.5)], STACK_ROWS)
    assert rate(s, "USA", "C29", importer="KOR") == pytest.approx(0.05 + 0.5 * 0.20)
    assert rate(s, "JPN", "C29", importer="KOR") == pytest.approx(0.05)
    assert rate(s, "USA", "C24A", importer="KOR") == pytest.approx(0.05)
    base = s.tariff_base
    assert base[WORLD.country_index("USA"), WORLD.country_index("KOR"), 1] == pytest.approx(0.05)


@pytest.mark.parametrize(("rule", "expected"), [
    # nested pieces: [0, .25] both (max 20%), (.25, .5] only A (10%), (.5, 1] none
    ("mutual_exclusion", 0.25 * 0.20 + 0.25 * 0.10),
    ("additive", 0.25 * 0.30 + 0.25 * 0.10),
])
def test_two_nested_coverages(rule, expected):
    s = schedule([retaliation("a", 0.10, 0.5), retaliation("b", 0.20, 0.25)], STACK_ROWS, stacking=rule)
    assert rate(s, "USA", "C29", importer="KOR") == pytest.approx(expected, abs=1e-15)


# ------------------------------------------------------------------ aggregation, invariants
def test_aggregation_is_trade_weighted():
    rows = [("8703230190", "KOR", "C29", 300, 0.0), ("8708299000", "KOR", "C29", 100, 0.02)]
    s = schedule([item("autos", ["8703"], 0.25)], rows)
    assert rate(s, "KOR", "C29") == pytest.approx((300 * 0.25 + 100 * 0.02) / 400)
    assert s.tariff_base[1, 0, 1] == pytest.approx(100 * 0.02 / 400)


def test_zero_shock_on_hand_made_lines():
    s = schedule([], STACK_ROWS)
    np.testing.assert_array_equal(s.evaluate()[0], s.tariff_base)
    assert s.tariff_base[2, 0, 1] == 0.025


def test_zero_shock_baseline_file_changes_nothing(korea_scenarios):
    shocks = compile_schedule(korea_scenarios["baseline_2024"])
    np.testing.assert_array_equal(shocks.tariff_new, shocks.tariff_base)
    assert shocks.tariff_base.max() > 0


def test_rates_can_be_varied_by_name():
    s = schedule([recip({"KOR": 0.15}), item("autos", ["8703"], 0.25)], STACK_ROWS)
    theta = s.vector({"autos.rate": 0.5, "recip.rates.KOR": 0.2})
    assert rate(s, "KOR", "C29", theta) == pytest.approx(0.5)
    assert rate(s, "KOR", "C24A", theta) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="Did you mean 'autos.rate'"):
        s.vector({"auto.rate": 0.1})


def test_batch_equals_loop_hand_made():
    s = schedule([recip({"KOR": 0.15, "JPN": 0.1}), item("autos", ["8703"], 0.25, all_in=True),
                  {"id": "f", "kind": "floor", "importer": "USA", "partners": ["JPN"], "rate": 0.15}], STACK_ROWS)
    rng = np.random.default_rng(0)
    theta = np.tile(s.defaults, (6, 1))
    theta += rng.uniform(0, 0.5, theta.shape) * (theta < 0.99)  # vary the rates, keep the switches on
    theta[3, s.parameter_index("f.enabled")] = 0.0
    batch = s.evaluate(theta)
    for b in range(6):
        np.testing.assert_array_equal(batch[b], s.evaluate(theta[b])[0])


def test_batch_equals_loop_on_real_lines(korea_scenarios):
    s = prepare_schedule(korea_scenarios["deal_15pct"])
    rng = np.random.default_rng(1)
    theta = np.tile(s.defaults, (4, 1))
    rate_cols = [k for k, n in enumerate(s.parameter_names) if not n.endswith(".enabled")]
    theta[:, rate_cols] = rng.uniform(0, 1, (4, len(rate_cols)))
    theta[2, s.parameter_index("kor_floor.enabled")] = 0.0
    batch = s.evaluate(theta)
    for b in range(4):
        np.testing.assert_allclose(batch[b], s.evaluate(theta[b])[0], rtol=0, atol=1e-15)


# ------------------------------------------------------------------ property test
PROP_ROWS = [
    ("8703230190", "KOR", "C29", 100, 0.0), ("8708299000", "KOR", "C29", 50, 0.025),
    ("7208100000", "KOR", "C24A", 70, 0.0), ("7320100000", "JPN", "C24A", 20, 0.03),
    ("8703230190", "JPN", "C29", 100, 0.025), ("8704210000", "DEU", "C29", 40, 0.25),
    ("0508000000", "BRA", "C24A", 10, 0.0),
]
PROP = schedule([
    recip({"KOR": 0.25, "JPN": 0.24, "default": 0.1}, exempt=["list:annex_ii_2025_04_02"]),
    item("autos", ["8703", "8704"], 0.25, precedence=1, rates={"KOR": 0.15}),
    item("parts", ["8708", "7320"], 0.25, precedence=1),
    item("metals", ["72", "73"], 0.50),
    item("deal", ["8703"], 0.15, all_in=True, precedence=2, partners=["JPN"]),
    {"id": "floor", "kind": "floor", "importer": "USA", "partners": ["EU27"], "rate": 0.15},
], PROP_ROWS, stacking="additive")
RATE_PARAMS = [k for k, n in enumerate(PROP.parameter_names) if ".rate" in n]


@settings(max_examples=60, deadline=None)
@given(
    rates=st.lists(st.floats(0, 2), min_size=len(RATE_PARAMS), max_size=len(RATE_PARAMS)),
    which=st.sampled_from(RATE_PARAMS),
    bump=st.floats(0, 1),
)
def test_property_finite_above_base_and_monotone(rates, which, bump):
    theta = PROP.defaults
    theta[RATE_PARAMS] = rates
    cells = PROP.cell_rates(theta)[0]
    assert np.isfinite(cells).all()
    assert (cells >= PROP.cells["base"] - 1e-15).all()
    higher = theta.copy()
    higher[which] += bump
    assert (PROP.cell_rates(higher)[0] >= cells - 1e-12).all()
    assert (PROP.evaluate(higher) >= PROP.evaluate(theta) - 1e-12).all()


def test_property_schedule_has_the_parameters_it_should():
    assert len(RATE_PARAMS) == 9  # 3 reciprocal keys, autos rate + KOR, parts, metals, deal, floor


# ------------------------------------------------------------------ dates and coverage gaps
def test_measures_not_in_force_are_ignored():
    later = item("autos", ["8703"], 0.25, effective=dt.date(2025, 5, 3))
    s = schedule([later], STACK_ROWS, effective=dt.date(2025, 4, 9))
    assert rate(s, "KOR", "C29") == 0.0
    assert not any(n.startswith("autos.") for n in s.parameter_names)
    s = schedule([later], STACK_ROWS, effective=dt.date(2025, 4, 9), date=dt.date(2025, 5, 3))
    assert rate(s, "KOR", "C29") == pytest.approx(0.25)


def test_unmapped_partners_warn_instead_of_vanishing():
    w = world(("USA", "KOR", "JPN"))  # no ROW to take Brazil in
    rows = STACK_ROWS + [("8703230190", "BRA", "C29", 2e9, 0.0)]
    s = schedule([recip({"default": 0.1})], rows, w=w)
    assert any("USD 2.00 bn have no country in this world" in m for m in s.warnings)
    assert rate(s, "KOR", "C29", w=w) == pytest.approx(0.1)


def test_unknown_importer_is_an_error():
    # issue 12: a measure whose importer the world lacks used to vanish with a warning (all-zero results)
    w = world(("USA", "KOR", "JPN"))
    ret = {"id": "chn", "kind": "retaliation", "importer": "CHN", "rate": 0.1}
    with pytest.raises(DataError, match=r"importer\(s\) \['CHN'\] of measure\(s\) \[chn\].*keep"):
        schedule([ret], STACK_ROWS, w=w)


def test_quota_blends_in_and_over_quota_rates():
    q = {"id": "q", "kind": "quota", "importer": "USA", "partners": ["KOR"], "products": ["72"],
         "in_quota_rate": 0.0, "over_quota_rate": 0.5, "quota": 100.0}  # USD mn
    s = schedule([q], [("7208100000", "KOR", "C24A", 400e6, 0.0)])
    # 100 of 400 USD mn within the quota: 0.75 of the value pays 50%
    assert rate(s, "KOR", "C24A") == pytest.approx(0.75 * 0.5)


def test_line_accounting_exposure_respects_mutual_exclusion():
    s = schedule([recip({"KOR": 0.15}), item("autos", ["8703"], 0.25)], STACK_ROWS)
    acc = s.line_accounting()
    kor = list(acc["partner"]).index("KOR")
    assert acc["value"][kor] == 150
    assert acc["applied"]["recip"][0, kor] == 50  # the car pays the 232 duty, not the reciprocal
    assert acc["applied"]["autos"][0, kor] == 100
    assert acc["duty_new"][0, kor] == pytest.approx(100 * 0.25 + 50 * 0.15)
