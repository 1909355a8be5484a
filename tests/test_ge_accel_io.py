"""The compiled Caliendo–Parro solver with input–output links agrees with the numpy path.

kernels/_accel_cp_io.py solves the same wage iteration as kernels/cp_solve.py but its inner
price and expenditure systems are preconditioned, Anderson-accelerated and solved inexactly
far from the solution; these tests hold it to the numpy path's answers, to the model's
equations (checked here from the outputs), to batch == loop and to the zero shock.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffsim.kernels.cp import calibrate, solve_equilibrium
from tariffsim.models.ge import run_ge
from tariffsim.shocks import take_shocks
from test_ge_helpers import CP_DIR, has_numba, nafta_shocks, needs_cp, random_shocks, random_world

FIELDS = ("w_hat", "c_hat", "p_hat", "P_hat", "pi", "expenditure", "flows", "income")


def _kernel(world, shocks, theta, **kw):
    base = calibrate(world.flows, shocks.tariff_base, world.value_added_share, world.io_coefficients)
    return base, solve_equilibrium(base, shocks.tariff_new, theta, ntb=shocks.ntb, productivity=shocks.productivity,
                                   **kw)


def _assert_equal_fields(a, b, rtol):
    for name in FIELDS:
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=rtol, atol=1e-12, err_msg=name)


@has_numba
@pytest.mark.parametrize("seed", [41, 42, 43])
@pytest.mark.parametrize("extras", [False, True])
def test_numba_equals_numpy_on_random_io_worlds(seed, extras):
    world = random_world(n=5, s=4, io=True, seed=seed)
    shocks = random_shocks(world, 3, seed=seed + 100, extras=extras)
    theta = np.array([3.0, 5.0, 7.0, 9.0])
    _, fast = _kernel(world, shocks, theta, accelerate=True)
    _, slow = _kernel(world, shocks, theta, accelerate=False)
    assert fast.success.all() and slow.success.all()
    assert (fast.residual_trade_balance <= 1e-10).all() and (fast.residual_goods <= 1e-10).all()
    _assert_equal_fields(fast, slow, rtol=1e-9)
    # the same wage iteration: the counts may differ by the odd step only (inexact inner solves)
    assert np.max(np.abs(fast.iterations - slow.iterations)) <= 2


@has_numba
def test_exact_inner_solves_take_the_numpy_paths_steps():
    """With eta = 0 the inner systems are solved to 1e-3 tol on every step, as in the numpy path."""
    from tariffsim.kernels import _accel_cp_io

    world = random_world(n=6, s=3, io=True, seed=44)
    shocks = random_shocks(world, 4, seed=45, extras=True)
    theta = np.array([4.0, 6.0, 8.0])
    base, slow = _kernel(world, shocks, theta, accelerate=False)
    lnz = np.log(shocks.productivity)
    out = _accel_cp_io.solve(base.pi, base.tariff, shocks.tariff_new, np.broadcast_to(theta, (4, 3)),
                             ntb=shocks.ntb, lnz=lnz, va=base.value_added, d1=base.deficit, alpha=base.alpha,
                             gamma=base.gamma, io=base.io, tol=1e-10, max_iter=500, eta=0.0)
    np.testing.assert_array_equal(out["iters"], slow.iterations)
    np.testing.assert_allclose(np.exp(out["lnw"]), slow.w_hat, rtol=1e-11)
    np.testing.assert_allclose(out["flows"], slow.flows, rtol=1e-9, atol=1e-12)


@has_numba
def test_compiled_solution_satisfies_the_model_equations():
    """Checked from the outputs alone: goods markets (CP eq. 4), trade balance (eq. 5), shares (eq. 3)."""
    world = random_world(n=5, s=3, io=True, seed=46)
    shocks = random_shocks(world, 2, seed=47)
    theta = np.array([4.0, 6.0, 8.0])
    base, eq = _kernel(world, shocks, theta, accelerate=True)
    tau1 = shocks.tariff_new * (1 - np.eye(5))[None, :, :, None]
    Y = eq.flows.sum(axis=2)  # sales at producer prices, [b, i, j]
    demand = np.einsum("njk,bnk->bnj", world.io_coefficients, Y) + base.alpha * eq.income[..., None]
    np.testing.assert_allclose(eq.expenditure, demand, rtol=1e-9)
    purchases, sales = eq.flows.sum(axis=(1, 3)), eq.flows.sum(axis=(2, 3))
    np.testing.assert_allclose(purchases - sales, eq.deficit, atol=1e-8 * base.value_added.max())
    np.testing.assert_allclose(eq.pi, eq.flows * (1 + tau1) / eq.expenditure[:, None], rtol=1e-12)
    # ĉ = ŵ^γ Π_k P̂_k^γ^{k,j} (eq. 1) and the price index from the shares (eq. 2)
    lnc = base.gamma * np.log(eq.w_hat)[..., None] + np.einsum("nkj,bnk->bnj", world.io_coefficients,
                                                                 np.log(eq.P_hat))
    np.testing.assert_allclose(np.log(eq.c_hat), lnc, atol=1e-11)
    # the direct (one LU solve) numpy path gives the same equilibrium
    direct = solve_equilibrium(base, shocks.tariff_new, theta, linear="direct")
    _assert_equal_fields(eq, direct, rtol=1e-9)


@pytest.mark.parametrize("accelerate", [False, pytest.param(True, marks=has_numba)])
def test_zero_shock_changes_nothing(accelerate):
    world = random_world(n=5, s=3, io=True, seed=48)
    rng = np.random.default_rng(49)
    tb = rng.uniform(0, 0.1, (2, 5, 5, 3))
    base = calibrate(world.flows, tb, world.value_added_share, world.io_coefficients)
    assert base.alpha_clipped.max() == 0  # the baseline is an exact equilibrium
    eq = solve_equilibrium(base, tb, np.array([4.0, 5.0, 6.0]), accelerate=accelerate)
    assert eq.success.all()
    np.testing.assert_array_equal(eq.iterations, 0)
    np.testing.assert_allclose(eq.w_hat, 1.0, rtol=1e-12)
    np.testing.assert_allclose(eq.P_hat, 1.0, rtol=1e-11)
    np.testing.assert_allclose(eq.flows, base.flows, rtol=1e-10, atol=1e-12)


@has_numba
def test_batch_equals_loop():
    world = random_world(n=5, s=3, io=True, seed=50)
    shocks = random_shocks(world, 4, seed=51, scale=1.0, extras=True)
    theta = np.array([3.0, 6.0, 10.0])
    res = run_ge(shocks, theta, accelerate=True)
    assert res.solver.all_converged
    for k in range(4):
        one = run_ge(take_shocks(shocks, [k]), theta, accelerate=True)
        # compiled scenarios are solved one at a time: identical to the last bit
        np.testing.assert_array_equal(one.flow["flow_new"][0], res.flow["flow_new"][k])
        np.testing.assert_array_equal(one.country["welfare_pct"][0], res.country["welfare_pct"][k])


@has_numba
@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 1.0), theta=st.floats(1.5, 15.0))
def test_property_numba_equals_numpy(seed, scale, theta):
    world = random_world(n=4, s=3, io=True, seed=seed)
    shocks = random_shocks(world, 1, seed=seed + 1, scale=scale)
    _, fast = _kernel(world, shocks, theta, accelerate=True)
    _, slow = _kernel(world, shocks, theta, accelerate=False)
    assert fast.success.all() == slow.success.all()
    if slow.success.all():
        _assert_equal_fields(fast, slow, rtol=1e-8)


@needs_cp
@has_numba
def test_cp2015_nafta_numba_equals_numpy():
    """The published replication (tests/test_ge_cp2015.py runs the default path) on both paths."""
    from tariffsim.datasets.readers import read_caliendo_parro

    data = read_caliendo_parro(CP_DIR)
    world = data.world
    shocks = nafta_shocks(data)
    fast = run_ge(shocks, data.theta, deficits="purge", accelerate=True)
    slow = run_ge(shocks, data.theta, deficits="purge", accelerate=False)
    assert fast.solver.all_converged and slow.solver.all_converged
    np.testing.assert_array_equal(fast.solver.iterations, slow.solver.iterations)
    for col in ("welfare_pct", "welfare_first_order_pct", "welfare_tot_pct", "welfare_vot_pct", "real_wage_pct"):
        np.testing.assert_allclose(fast.country[col], slow.country[col], rtol=0, atol=1e-10, err_msg=col)
    np.testing.assert_allclose(fast.flow["flow_new"], slow.flow["flow_new"], rtol=1e-9, atol=1e-9)
    # Mexico's welfare gain, CP (2015) Table 2: 1.31 %
    assert round(fast.country["welfare_first_order_pct"][0, world.country_index("MEX")], 2) == 1.31


@has_numba
def test_inverse_and_vector_math_match_numpy():
    from tariffsim.kernels import _accel_cp_io_eval, _accel_math

    rng = np.random.default_rng(52)
    s = 7
    A = np.eye(s) - 0.1 * rng.uniform(size=(s, s))
    A[[0, 3]] = A[[3, 0]]  # needs pivoting
    out = np.empty((s, s))
    _accel_cp_io_eval.inverse_t(A.copy(), out, np.empty(s, dtype=np.int64), np.empty((s, s)))
    np.testing.assert_allclose(out.T @ A, np.eye(s), atol=1e-13)
    r, y = rng.uniform(size=s), np.empty(s)
    _accel_cp_io_eval.apply_t(out, r, y)
    np.testing.assert_allclose(A @ y, r, atol=1e-13)
    P = np.roll(np.eye(s), 1, axis=0) + 1e-10 * rng.uniform(size=(s, s))  # tiny pivots: pivoted LU fallback
    _accel_cp_io_eval.inverse_t(P.copy(), out, np.empty(s, dtype=np.int64), np.empty((s, s)))
    np.testing.assert_allclose(out.T @ P, np.eye(s), atol=1e-14)
    x = np.r_[rng.uniform(-700, 700, 1000), rng.uniform(-1, 1, 1000), 0.0]
    got = np.empty_like(x)
    _accel_math.vexp(x, got)
    np.testing.assert_allclose(got, np.exp(x), rtol=1e-15, atol=0)
    p = np.r_[np.exp(rng.uniform(-700, 700, 1000)), rng.uniform(0.5, 2.0, 1000), 1.0]
    _accel_math.vlog(p, got[: p.size])
    np.testing.assert_allclose(got[: p.size], np.log(p), rtol=1e-15, atol=1e-16)
