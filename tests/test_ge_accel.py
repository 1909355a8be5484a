"""GE solver paths agree: numpy vs compiled (numba), blocks vs one batch, block vs direct linear solve."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tariffsim import Shocks
from tariffsim.kernels import _accel, cp
from tariffsim.kernels.cp import calibrate, solve_equilibrium
from tariffsim.models.ge import run_ge
from test_ge_helpers import has_numba, random_shocks, random_world

COLUMNS = ("welfare_pct", "real_wage_pct", "price_index_pct", "welfare_tot_pct", "exports", "tariff_revenue",
           "acr_real_wage_pct")


def _assert_same(a, b, rtol):
    for col in COLUMNS:
        np.testing.assert_allclose(a.country[col], b.country[col], rtol=rtol, atol=1e-9, err_msg=col)
    np.testing.assert_allclose(a.flow["flow_new"], b.flow["flow_new"], rtol=rtol, atol=0)


@has_numba
@pytest.mark.parametrize("extras", [False, True])
def test_numba_equals_numpy(extras):
    world = random_world(n=6, s=4, io=False, seed=21)
    shocks = random_shocks(world, 5, seed=22, extras=extras)
    theta = np.array([3.0, 5.0, 7.0, 9.0])
    fast = run_ge(shocks, theta, accelerate=True)
    slow = run_ge(shocks, theta, accelerate=False)
    assert fast.solver.all_converged and slow.solver.all_converged
    # the same algorithm in both: same iteration counts, answers to rounding
    np.testing.assert_array_equal(fast.solver.iterations, slow.solver.iterations)
    _assert_same(fast, slow, rtol=1e-9)


@has_numba
def test_numba_equals_numpy_on_the_embedded_world():
    from tariffsim.datasets import load_elasticities, load_world

    world = load_world()
    shocks = random_shocks(world, 3, seed=23, scale=0.25)
    theta = load_elasticities("cp2015")
    _assert_same(run_ge(shocks, theta, accelerate=True), run_ge(shocks, theta, accelerate=False), rtol=1e-9)


@pytest.mark.parametrize("accelerate", [False, pytest.param(True, marks=has_numba)])
def test_blocks_and_active_set_do_not_change_answers(monkeypatch, accelerate):
    """One scenario per block vs all in one block, with scenarios of very different difficulty."""
    world = random_world(n=5, s=3, io=False, seed=24)
    shocks = random_shocks(world, 6, seed=25, scale=1.5)
    theta = np.array([2.0, 6.0, 12.0])
    one_block = run_ge(shocks, theta, accelerate=accelerate)
    monkeypatch.setattr(cp, "BLOCK_BYTES", 1)
    per_scenario = run_ge(shocks, theta, accelerate=accelerate)
    assert len(set(one_block.solver.iterations.tolist())) > 1  # the active set really shrinks
    np.testing.assert_array_equal(one_block.solver.iterations, per_scenario.solver.iterations)
    _assert_same(one_block, per_scenario, rtol=1e-12)


def test_io_world_accelerated_equals_numpy_and_batch_equals_loop(monkeypatch):
    world = random_world(n=5, s=3, io=True, seed=26)
    shocks = random_shocks(world, 4, seed=27)
    theta = np.array([4.0, 5.0, 6.0])
    res = run_ge(shocks, theta, accelerate=None)  # compiled with IO links where numba is installed
    np.testing.assert_allclose(run_ge(shocks, theta, accelerate=False).flow["flow_new"], res.flow["flow_new"],
                               rtol=1e-9 if _accel.numba_available() else 1e-13)
    monkeypatch.setattr(cp, "BLOCK_BYTES", 1)
    for k in range(4):
        one = run_ge(Shocks.from_rates(world, shocks.tariff_base[k], shocks.tariff_new[k]), theta)
        np.testing.assert_allclose(one.flow["flow_new"][0], res.flow["flow_new"][k], rtol=1e-9)


def test_direct_linear_solve_equals_block_jacobi():
    """cp(linear="direct"): one LU solve of CP eq. 4 gives the block-Jacobi answer."""
    world = random_world(n=4, s=3, io=True, seed=28)
    shocks = random_shocks(world, 2, seed=29)
    base = calibrate(world.flows, shocks.tariff_base, world.value_added_share, world.io_coefficients)
    theta = np.array([4.0, 6.0, 8.0])
    block = solve_equilibrium(base, shocks.tariff_new, theta, linear="block")
    direct = solve_equilibrium(base, shocks.tariff_new, theta, linear="direct")
    assert block.success.all() and direct.success.all()
    for name in ("w_hat", "P_hat", "expenditure", "flows", "income"):
        np.testing.assert_allclose(getattr(direct, name), getattr(block, name), rtol=1e-9, err_msg=name)
    # the direct solution satisfies eq. 4 exactly: X' = Σ_k γ^{j,k} Y'^k + α I'
    Y = direct.flows.sum(axis=2)
    demand = np.einsum("njk,bnk->bnj", world.io_coefficients, Y) + base.alpha * direct.income[..., None]
    np.testing.assert_allclose(direct.expenditure, demand, rtol=1e-10)
    with pytest.raises(ValueError, match="linear must be 'block' or 'direct'"):
        solve_equilibrium(base, shocks.tariff_new, theta, linear="lu")


def test_accelerate_option_and_environment(monkeypatch):
    monkeypatch.setenv(_accel.NO_NUMBA_ENV, "1")
    assert _accel.use_numba(None) is False
    assert _accel.use_numba(False) is False
    if _accel.numba_available():
        assert _accel.use_numba(True) is True  # an explicit option wins over the environment
    monkeypatch.delenv(_accel.NO_NUMBA_ENV)
    assert _accel.use_numba(None) is _accel.numba_available()
    monkeypatch.setattr(_accel, "numba_available", lambda: False)
    assert _accel.use_numba(None) is False
    with pytest.raises(ImportError, match=r"tariffsim\[fast\]"):
        _accel.use_numba(True)


def test_import_stays_light_and_numpy_path_never_imports_numba():
    code = (
        "import sys, numpy as np, tariffsim\n"
        "assert 'numba' not in sys.modules, 'import tariffsim imported numba'\n"
        "from tariffsim.models.ge import run_ge\n"
        "from tariffsim.datasets import load_world\n"
        "w = load_world(); n, s = w.n_countries, w.n_sectors\n"
        "run_ge(tariffsim.Shocks.from_rates(w, np.zeros((n, n, s)), np.full((n, n, s), 0.1)), 5.0)\n"
        "print('numba' in sys.modules)\n"
    )
    env = {**os.environ, _accel.NO_NUMBA_ENV: "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


def test_blas_threads_limited_inside_the_solver():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with _accel.single_blas_thread():
        inside = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert inside and all(k == 1 for k in inside)


def test_purge_with_elasticities_by_scenario_purges_each_scenario():
    """A shared baseline is purged once only when θ is the same in every scenario."""
    world = random_world(n=4, s=2, io=False, seed=30)
    rng = np.random.default_rng(31)
    base = rng.uniform(0, 0.05, (4, 4, 2))
    shocks = Shocks.from_rates(world, base, np.broadcast_to(base, (2, 4, 4, 2)))
    theta = np.array([[3.0, 4.0], [8.0, 9.0]])
    both = run_ge(shocks, theta, deficits="purge")
    for k in range(2):
        one = run_ge(Shocks.from_rates(world, base, base), theta[k], deficits="purge")
        np.testing.assert_allclose(both.flow["flow_base"][k], one.flow["flow_base"][0], rtol=1e-10)
    assert not np.allclose(both.flow["flow_base"][0], both.flow["flow_base"][1])


@has_numba
def test_numba_with_one_tariff_schedule_for_all_scenarios():
    """tariff_new broadcast over the batch (stride 0), scenarios differing only in productivity."""
    world = random_world(n=5, s=3, io=False, seed=32)
    rng = np.random.default_rng(33)
    base = rng.uniform(0, 0.05, (5, 5, 3))
    z = rng.uniform(0.9, 1.1, (3, 5, 3))
    batch = (3, 5, 5, 3)
    shocks = Shocks.from_rates(world, np.broadcast_to(base, batch), np.broadcast_to(base + 0.1, batch), productivity=z)
    assert shocks.tariff_new.strides[0] == 0 and shocks.batch_size == 3
    fast, slow = run_ge(shocks, 5.0, accelerate=True), run_ge(shocks, 5.0, accelerate=False)
    assert fast.solver.all_converged
    _assert_same(fast, slow, rtol=1e-9)
    assert not np.allclose(fast.country["welfare_pct"][0], fast.country["welfare_pct"][1])


@has_numba
@pytest.mark.parametrize("sector_inner", [False, True])
def test_both_weight_layouts_agree_with_numpy(monkeypatch, sector_inner):
    """The compiled solver's two layouts (sectors or importers innermost) give the numpy answers."""
    from tariffsim.kernels import _accel_cp

    monkeypatch.setattr(_accel_cp, "sector_inner", lambda n, s: sector_inner)
    world = random_world(n=5, s=7, io=False, seed=31)
    shocks = random_shocks(world, 3, seed=32, extras=True)
    theta = np.array([2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 11.0])
    fast = run_ge(shocks, theta, accelerate=True)
    slow = run_ge(shocks, theta, accelerate=False)
    np.testing.assert_array_equal(fast.solver.iterations, slow.solver.iterations)
    _assert_same(fast, slow, rtol=1e-9)


@has_numba
def test_compiled_exp_and_log_within_one_ulp_of_numpy():
    from numba import njit

    from tariffsim.kernels._accel_math import exp, log

    @njit(error_model="numpy", fastmath={"contract"})  # the kernels' flags
    def both(x, y, ex, lg):  # pragma: no cover - compiled
        for k in range(x.size):
            ex[k] = exp(x[k])
            lg[k] = log(y[k])

    rng = np.random.default_rng(5)
    x = np.concatenate([rng.uniform(-700, 700, 20_000), rng.uniform(-1, 1, 20_000), [0.0, -1e-300, 1e-17]])
    y = np.concatenate([np.exp(rng.uniform(-700, 700, 20_000)), rng.uniform(0.5, 2.0, 20_000), [1.0, 2.0, 1e-300]])
    ex, lg = np.empty_like(x), np.empty_like(y)
    both(x, y, ex, lg)
    assert np.all(np.abs(ex - np.exp(x)) <= np.spacing(np.exp(x)))
    assert np.all(np.abs(lg - np.log(y)) <= np.spacing(np.abs(np.log(y))) + (np.log(y) == 0))
    assert ex[-3] == 1.0 and lg[-3] == 0.0
