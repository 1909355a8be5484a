"""Price-model kernels: a hand-worked three-commodity economy and properties on the BEA data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffsim.datasets.prices import load_prices_data
from tariffsim.kernels.prices import (
    bridge_prices,
    commodity_prices,
    group_sum,
    household_costs,
    io_split,
)
from tariffsim.models.prices import price_chain

# three commodities; A[i, j] = input of i per USD of output j
A = np.array([[0.1, 0.2, 0.0],
              [0.0, 0.1, 0.3],
              [0.2, 0.0, 0.0]])
SHARE = np.array([[0.5, 0.5, 0.5], [0.0, 0.0, 0.0], [0.25, 0.25, 0.25]])  # imported share of each input row
TAU = np.array([0.2, 0.0, 0.1])
W_M = np.array([0.5, 0.0, 0.25])  # imported share of each commodity in consumption


def _hand():
    """Solved by hand (see the derivation in the comments), no matrix inverse."""
    # push_j = sum_i A_M[i,j] tau_i with A_M = SHARE o A:
    # push_1 = 0.05*0.2 + 0.05*0.1 = 0.015 ; push_2 = 0.1*0.2 = 0.02 ; push_3 = 0
    # dp_1 = 0.05 dp_1 + 0.15 dp_3 + 0.015 ; dp_2 = 0.1 dp_1 + 0.1 dp_2 + 0.02 ; dp_3 = 0.3 dp_2
    # => 0.95 dp_1 = 0.045 (0.1 dp_1 + 0.02)/0.9 + 0.015 = 0.005 dp_1 + 0.016 => dp_1 = 0.016/0.945
    dp1 = 0.016 / 0.945
    dp2 = (0.1 * dp1 + 0.02) / 0.9
    dp3 = 0.3 * dp2
    consumer = np.array([0.5 * 0.2 + 0.5 * dp1, dp2, 0.25 * 0.1 + 0.75 * dp3])
    return np.array([dp1, dp2, dp3]), consumer


def test_three_commodity_hand_worked():
    tr = np.linalg.inv(np.eye(3) - A)  # what BEA publishes: the total requirements
    a_m, l_d = io_split(tr, SHARE)
    np.testing.assert_allclose(a_m, SHARE * A, atol=1e-12)
    consumer, domestic, imported = commodity_prices(TAU, a_m, l_d, W_M)
    dp_hand, consumer_hand = _hand()
    np.testing.assert_allclose(domestic, dp_hand, rtol=1e-12)
    np.testing.assert_allclose(consumer, consumer_hand, rtol=1e-12)
    np.testing.assert_allclose(imported, TAU)
    assert dp_hand[0] == pytest.approx(0.01693121693, rel=1e-9)
    # PCE line 0 = commodity 1 (PV 60, PUR 100) + commodity 2 (PV 20, PUR 30); line 1 = commodity 3 (50, 50)
    line = bridge_prices(consumer, np.array([0, 0, 1]), np.array([0, 1, 2]), np.array([60.0, 20.0, 50.0]),
                         np.array([100.0, 30.0, 50.0]), 2)
    p0 = (60 * consumer_hand[0] + 20 * consumer_hand[1]) / 130
    np.testing.assert_allclose(line, [p0, consumer_hand[2]], rtol=1e-12)
    pct = bridge_prices(consumer, np.array([0, 0, 1]), np.array([0, 1, 2]), np.array([60.0, 20.0, 50.0]),
                        np.array([100.0, 30.0, 50.0]), 2, margins="constant_percentage")
    assert pct[0] == pytest.approx((100 * consumer_hand[0] + 30 * consumer_hand[1]) / 130)


def test_pass_through_and_domestic_pricing_by_hand():
    tr = np.linalg.inv(np.eye(3) - A)
    a_m, l_d = io_split(tr, SHARE)
    half, _, _ = commodity_prices(TAU, a_m, l_d, W_M, pass_through=0.5)
    full, _, _ = commodity_prices(TAU, a_m, l_d, W_M)
    np.testing.assert_allclose(half, 0.5 * full, rtol=1e-12)
    # delta = 1 on commodity 3 only changes push_3 by tau_3 = 0.1: dp_3 = 0.3 dp_2 + 0.1, the rest follows
    _, dom, _ = commodity_prices(TAU, a_m, l_d, W_M, domestic_pricing=1.0)
    # push = (0.015 + 0.2, 0.02 + 0, 0 + 0.1);
    # dp1 = (0.015+0.2 + 0.15 dp3)/0.95, dp2 = (0.1 dp1 + 0.02)/0.9, dp3 = 0.3 dp2 + 0.1
    # dp1 0.95 = 0.215 + 0.15 (0.3 (0.1 dp1 + 0.02)/0.9 + 0.1) = 0.215 + 0.005 dp1 + 0.001 + 0.015
    dp1 = 0.231 / 0.945
    dp2 = (0.1 * dp1 + 0.02) / 0.9
    np.testing.assert_allclose(dom, [dp1, dp2, 0.3 * dp2 + 0.1], rtol=1e-12)


def test_zero_tariff_gives_zero():
    data = load_prices_data()
    out = price_chain(np.zeros((2, len(data.commodities))), data)
    for key in ("commodity", "line", "group", "level", "cost", "decile"):
        assert np.all(out[key] == 0.0), key


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(-3, 3), st.floats(-3, 3))
def test_linear_in_the_tariff(seed, a, b):
    data = load_prices_data()
    rng = np.random.default_rng(seed)
    t1, t2 = rng.uniform(0, 0.5, (2, len(data.commodities)))
    both = price_chain(np.stack([a * t1 + b * t2, t1, t2]), data)
    for key in ("commodity", "line", "level", "decile"):
        np.testing.assert_allclose(both[key][0], a * both[key][1] + b * both[key][2], rtol=1e-9, atol=1e-12)


def test_decile_costs_add_up_to_the_aggregate_cost():
    data = load_prices_data()
    np.testing.assert_allclose(data.group_decile_share.sum(axis=1), 1.0, rtol=1e-12)
    rng = np.random.default_rng(3)
    out = price_chain(rng.uniform(0, 0.3, (1, len(data.commodities))), data)
    # households are deciles of equal size: mean decile cost == aggregate cost per household
    assert out["decile"][0].mean() == pytest.approx(out["cost"][0], rel=1e-12)
    p_group = np.array([0.01 * (g + 1) for g in range(len(data.groups))])
    pce = np.arange(1.0, len(data.groups) + 1)
    cost = household_costs(p_group, pce, data.group_decile_share, 10.0)
    assert cost.sum() == pytest.approx((p_group * pce).sum())


def test_group_sum():
    np.testing.assert_allclose(group_sum(np.array([[1.0, 2.0, 4.0]]), np.array([1, 0, 1]), 2), [[2.0, 5.0]])
