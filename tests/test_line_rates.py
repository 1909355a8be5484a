"""CompiledSchedule.line_rates: every US line's all-in rate, checked against rates worked out by hand
on hand-made lines, against the customs accounts, and (prices model) against one compile per group."""

from __future__ import annotations

import numpy as np
import pytest

from tariffsim.lines import ProductLines
from tariffsim.models.prices_lines import commodity_duties, subset_lines
from tariffsim.scenario import scenario_from_dict
from tariffsim.schedule import prepare_schedule
from tariffsim.world import TradeWorld

# no ROW: the BRA line has no country in this world
WORLD = TradeWorld(("USA", "KOR", "JPN", "EU27"), ("C24A", "C29", "A01"), np.full((4, 4, 3), 10.0), name="toy")

#: (hs10, partner, sector, value USD, base rate)
ROWS = [
    ("8703230190", "KOR", "C29", 100.0, 0.0),    # car: autos on half its value, the rest reciprocal
    ("7208100000", "KOR", "C24A", 50.0, 0.0),    # steel: 40% content at 50%, the rest reciprocal
    ("8703230190", "JPN", "C29", 100.0, 0.025),  # car with a 2.5% base
    ("0101210010", "JPN", "A01", 30.0, 0.01),    # horse: reciprocal only
    ("7208100000", "DEU", "C24A", 20.0, 0.0),    # steel from an EU member (EU27 rate)
    ("7208100000", "BRA", "C24A", 40.0, 0.0),    # no country in the world: NaN
    ("0101210010", "KOR", "A01", 0.0, 0.02),     # no trade: still a rate
]

MEASURES = [
    {"id": "us_base", "kind": "base", "importer": "USA", "schedule": "hts_2024"},
    {"id": "recip", "kind": "reciprocal", "importer": "USA", "rates": {"KOR": 0.15, "JPN": 0.10, "EU27": 0.2}},
    {"id": "steel", "kind": "item", "importer": "USA", "products": ["7208"], "rate": 0.5, "content_share": 0.4},
    {"id": "autos", "kind": "item", "importer": "USA", "products": ["8703"], "rate": 0.25, "coverage": 0.5},
]


def _lines() -> ProductLines:
    partners = sorted({r[1] for r in ROWS})
    return ProductLines(
        importer="USA", hs10=np.array([int(r[0]) for r in ROWS], dtype=np.int64),
        partner_code=np.array([partners.index(r[1]) for r in ROWS], dtype=np.int64),
        partner_labels=np.array(partners, dtype="U8"), sector=np.array([r[2] for r in ROWS]),
        value=np.array([r[3] for r in ROWS]), base_rate=np.array([r[4] for r in ROWS]),
        has_specific=np.zeros(len(ROWS), dtype=bool),
    )


def _by_hand(content: float = 0.4, kor: float = 0.15, autos: float = 0.25) -> np.ndarray:
    """Mutual exclusion (US law): a share of a line under an item pays the item on top of the base;
    the rest pays the reciprocal rate of its partner."""
    return np.array([
        0.5 * autos + 0.5 * kor,                # KOR car: autos cover [0, 0.5)
        content * 0.5 + (1 - content) * kor,    # KOR steel: content share pays the steel duty
        0.025 + 0.5 * autos + 0.5 * 0.10,       # JPN car
        0.01 + 0.10,                            # JPN horse
        content * 0.5 + (1 - content) * 0.2,    # DEU steel: the EU27 rate
        np.nan,                                 # BRA: no country in the world
        0.02 + kor,                             # KOR horse without trade
    ])


@pytest.fixture(scope="module")
def sched():
    out = prepare_schedule(scenario_from_dict({"name": "toy", "measure": MEASURES}), WORLD, lines=_lines())
    assert any("no country in this world" in w for w in out.warnings)
    return out


def test_line_rates_by_hand(sched):
    rates = sched.line_rates()
    assert rates.shape == (1, len(ROWS))
    np.testing.assert_allclose(rates[0], _by_hand(), rtol=0, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(sched.line_base_rates(), [r[4] for r in ROWS], rtol=0, atol=0)


def test_line_rates_follow_the_parameters(sched):
    theta = np.stack([sched.defaults, sched.vector({"steel.content_share": 0.7, "recip.rates.KOR": 0.3,
                                                    "autos.rate": 0.1})])
    rates = sched.line_rates(theta)
    np.testing.assert_allclose(rates[0], _by_hand(), rtol=0, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(rates[1], _by_hand(content=0.7, kor=0.3, autos=0.1), rtol=0, atol=1e-12,
                               equal_nan=True)


def test_line_rates_weighted_give_the_customs_accounts(sched):
    theta = np.stack([sched.defaults, sched.vector({"steel.content_share": 0.9})])
    rates, acc, lines = sched.line_rates(theta), sched.line_accounting(theta), _lines()
    on = np.isfinite(rates[0])
    partner = lines.partner_labels[lines.partner_code]
    for k, p in enumerate(acc["partner"]):
        mine = on & (partner == p)
        assert acc["value"][k] == pytest.approx(lines.value[mine].sum(), rel=1e-12)
        for b in range(2):
            assert acc["duty_new"][b, k] == pytest.approx((lines.value * rates[b])[mine].sum(), rel=1e-12, abs=1e-12)


def test_commodity_duties_equal_one_compile_per_group(sched):
    """The prices model's groups from line_rates equal compiling each group's lines on their own
    (what the model did before line_rates)."""
    lines = _lines()
    commodity = np.array([0, 1, 0, 2, 1, 1, -1])
    gd = commodity_duties(sched, commodity, by_sector=True, lines=lines)
    for k, (com, sec) in enumerate(zip(gd.commodity, gd.sector)):
        mask = (commodity == com) & (lines.sector == sec)
        sub = type(sched)(sched.scenario, WORLD, lines=subset_lines(lines, mask))
        acc = sub.line_accounting()
        pos = np.searchsorted(gd.partner, acc["partner"])
        np.testing.assert_allclose(gd.value[k, pos], acc["value"], rtol=1e-12)
        np.testing.assert_allclose(gd.duty_base[k, pos], acc["duty_base"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gd.duty_new[0, k, pos], acc["duty_new"][0], rtol=1e-12, atol=1e-12)
        rest = np.setdiff1d(np.arange(len(gd.partner)), pos)
        assert not gd.value[k, rest].any() and not gd.duty_new[0, k, rest].any()


def test_line_rates_of_a_pickled_schedule(sched):
    """Sweep workers get schedules pickled; the line pieces are rebuilt there, the same."""
    import pickle

    back = pickle.loads(pickle.dumps(sched))
    np.testing.assert_array_equal(back.line_rates(), sched.line_rates())
    np.testing.assert_array_equal(back.line_base_rates(), sched.line_base_rates())
