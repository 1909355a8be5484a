"""The compiler's fast evaluate path (tariffsim/schedule/evaluator.py) against an independent sum.

``CompiledSchedule.evaluate`` evaluates distinct rate programs, only where parameters move,
and sums cells sorted by world flow. Here the same rates are recomputed the long way: every
cell of the *full* layout (``cell_rates``, one row per line piece, never merged), weighted
by its import value and share multiplier (``cell_weights``) and summed per world flow with
``np.bincount`` - a different layout, a different summation - so the two agree to rounding.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from tariffsim.scenario import load_scenario
from tariffsim.schedule import prepare_schedule

KOREA = Path(__file__).resolve().parents[1] / "scenarios" / "korea_us_2025"


def _compiled(name: str):
    return prepare_schedule(load_scenario(KOREA / f"{name}.toml"))


def _long_way(sched, theta: np.ndarray) -> np.ndarray:
    """t_g = sum_c w_c m_c(theta) t_c / sum_c w_c m_c(theta0) over the full cells of each flow g."""
    w = sched.world
    n, s = w.n_countries, w.n_sectors
    c = sched.cells
    flow = (c["exporter"] * n + c["importer"]) * s + c["sector"]
    rates = sched.cell_rates(theta)
    weights = sched.cell_weights(theta)
    total = np.bincount(flow, weights=sched.cell_weights()[0], minlength=n * n * s)
    out = np.zeros((len(theta), n * n * s))
    for b in range(len(theta)):
        duty = np.bincount(flow, weights=weights[b] * rates[b], minlength=n * n * s)
        out[b] = np.where(total > 0, duty / np.where(total > 0, total, 1.0), np.nan)
    return out.reshape((len(theta), n, n, s))


def _theta(sched, rng, rows: int, k: int) -> np.ndarray:
    """Rows with ``k`` random rate parameters moved (others at their defaults), a switch off in some."""
    names = sched.parameter_names
    rates = [j for j, p in enumerate(names) if p.endswith(("rate", "share")) or ".rates." in p]
    switches = [j for j, p in enumerate(names) if p.endswith(".enabled")]
    theta = np.tile(sched.defaults, (rows, 1))
    for b in range(rows):
        cols = rng.choice(rates, size=min(k, len(rates)), replace=False)
        theta[b, cols] = rng.uniform(0.0, 0.6, len(cols))
        if b % 3 == 2 and switches:
            theta[b, rng.choice(switches)] = 0.0
    return theta


@pytest.mark.parametrize("name", ["liberation_day", "july_b_partial", "deal_15pct"])
def test_evaluate_equals_the_long_way(name):
    sched = _compiled(name)
    theta = _theta(sched, np.random.default_rng(3), 12, 3)
    fast, slow = sched.evaluate(theta), _long_way(sched, theta)
    traded = np.isfinite(slow)
    assert traded.sum() > 100
    np.testing.assert_allclose(fast[traded], slow[traded], rtol=1e-12, atol=1e-14)
    assert not np.any(fast[~traded])  # flows without cells or trade: 0


def test_parameter_shares_move_only_their_flows():
    """july_b_partial has a parameter share (end use): moving it alone changes the flows the
    measure covers and nothing else, and agrees with the long way."""
    sched = _compiled("july_b_partial")
    shares = [j for j, p in enumerate(sched.parameter_names) if p.endswith("share")]
    assert shares, "scenario without parameter shares"
    theta = np.tile(sched.defaults, (5, 1))
    theta[:, shares] = np.linspace(0.0, 1.0, 5)[:, None]
    fast = sched.evaluate(theta)
    slow = _long_way(sched, theta)
    traded = np.isfinite(slow)
    np.testing.assert_allclose(fast[traded], slow[traded], rtol=1e-12, atol=1e-14)
    moved = np.any(fast != sched.evaluate()[0], axis=0)
    assert 0 < moved.sum() < moved.size


def test_rows_that_move_nothing_are_the_defaults_bit_for_bit():
    """A batch in which some rows keep every default: those rows equal evaluate() exactly,
    and every row equals its own single-row evaluation (other rows move other programs)."""
    sched = _compiled("liberation_day")
    theta = _theta(sched, np.random.default_rng(5), 9, 2)
    theta[[0, 4]] = sched.defaults
    batch = sched.evaluate(theta)
    np.testing.assert_array_equal(batch[0], sched.evaluate()[0])
    np.testing.assert_array_equal(batch[4], sched.evaluate()[0])
    for b in range(len(theta)):
        np.testing.assert_array_equal(batch[b], sched.evaluate(theta[b])[0])


def test_pickled_schedule_is_small_and_evaluates_the_same():
    """Sweep workers get the schedule pickled: without the embedded US lines (a few MB, not
    ~75), and evaluating exactly as the original."""
    sched = _compiled("liberation_day")
    data = pickle.dumps(sched, protocol=pickle.HIGHEST_PROTOCOL)
    assert len(data) < 10e6
    again = pickle.loads(data)
    theta = _theta(sched, np.random.default_rng(7), 6, 3)
    np.testing.assert_array_equal(again.evaluate(theta), sched.evaluate(theta))
    np.testing.assert_array_equal(again.tariff_base, sched.tariff_base)
    assert sched._ctx.lines is not None  # the original keeps its lines
