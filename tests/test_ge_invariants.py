"""GE invariants: zero shock, ACR, batch == loop, adding-up, units, failures, warnings."""

from __future__ import annotations

import numpy as np
import pytest

from tariffsim import ConvergenceError, DataError, Shocks
from tariffsim.datasets.readers import read_gravity_long
from tariffsim.kernels.cp import calibrate, solve_equilibrium
from tariffsim.models.ge import run_ge
from test_ge_helpers import GRAVITY_FILE, needs_gravity, random_world


def _tariffs(world, b, seed=1, scale=0.2):
    rng = np.random.default_rng(seed)
    n, s = world.n_countries, world.n_sectors
    base = rng.uniform(0, 0.1, (n, n, s))
    new = base[None] + rng.uniform(0, scale, (b, n, n, s))
    return np.broadcast_to(base, (b, n, n, s)), new


@pytest.mark.parametrize("io", [True, False])
def test_zero_shock_returns_baseline(io):
    world = random_world(io=io)
    tb, _ = _tariffs(world, 1)
    res = run_ge(Shocks.from_rates(world, tb, tb), np.array([4.0, 6.0, 9.0]))
    np.testing.assert_allclose(res.flow["flow_new"], res.flow["flow_base"], rtol=1e-12, atol=0)
    for col in ("welfare_pct", "real_wage_pct", "price_index_pct", "welfare_tot_pct", "welfare_vot_pct"):
        np.testing.assert_allclose(res.country[col], 0.0, atol=1e-10)


@needs_gravity
def test_zero_shock_gravity_and_acr_identity():
    world = read_gravity_long(GRAVITY_FILE)
    n = world.n_countries
    ntb = np.zeros((2, n, n, 1))
    can, jpn = world.country_index("CAN"), world.country_index("JPN")
    ntb[1, can, jpn], ntb[1, jpn, can] = -0.2, -0.2  # iceberg cut between Canada and Japan
    zero = np.zeros((2, n, n, 1))
    res = run_ge(Shocks(world, ("zero", "can_jpn"), zero, zero, ntb=ntb), 4.0)
    np.testing.assert_allclose(res.flow["flow_new"][0], res.flow["flow_base"][0], rtol=1e-12)
    # ACR: real wage change = λ̂_nn^(−1/ε), to 1e-10 (in levels of the hat)
    rw = 1 + res.country["real_wage_pct"] / 100
    acr = 1 + res.country["acr_real_wage_pct"] / 100
    np.testing.assert_allclose(rw, acr, rtol=0, atol=1e-10)
    lam = np.diagonal(res.flow["flow_new"][1, :, :, 0]) / res.flow["flow_new"][1, :, :, 0].sum(axis=0)
    lam0 = np.diagonal(res.flow["flow_base"][1, :, :, 0]) / res.flow["flow_base"][1, :, :, 0].sum(axis=0)
    np.testing.assert_allclose(rw[1], (lam / lam0) ** (-1 / 4.0), rtol=0, atol=1e-10)
    assert rw[1, can] > 1 and rw[1, jpn] > 1


def test_batch_equals_loop():
    world = random_world(seed=3)
    tb, tn = _tariffs(world, 4, seed=4)
    theta = np.array([3.0, 5.0, 8.0])
    batch = run_ge(Shocks.from_rates(world, tb, tn), theta)
    for k in range(4):
        one = run_ge(Shocks.from_rates(world, tb[k], tn[k]), theta)
        for col in ("welfare_pct", "real_wage_pct", "exports", "tariff_revenue"):
            np.testing.assert_allclose(batch.country[col][k], one.country[col][0], rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(batch.flow["flow_new"][k], one.flow["flow_new"][0], rtol=1e-8)


def test_adding_up_and_numeraire():
    world = random_world(seed=5)
    tb, tn = _tariffs(world, 3, seed=6)
    base = calibrate(world.flows, tb, world.value_added_share, world.io_coefficients)
    change = np.array([[5.0, -5.0, 0, 0, 0]] * 3)
    eq = solve_equilibrium(base, tn, np.array([4.0, 5.0, 6.0]), deficit_new=base.deficit + change)
    assert eq.success.all()
    tariff = tn.copy()
    tariff[:, np.arange(5), np.arange(5), :] = 0
    revenue = (tariff * eq.flows).sum(axis=(1, 2, 3))
    sales = eq.flows.sum(axis=(1, 2, 3))
    # world tariff-inclusive spending = world sales + tariff revenue
    np.testing.assert_allclose(eq.expenditure.sum(axis=(1, 2)), sales + revenue, rtol=1e-12)
    # world income = world final expenditure (value added + revenue; deficits net out)
    final = eq.expenditure - np.einsum("njk,bnk->bnj", world.io_coefficients, eq.flows.sum(axis=2))
    np.testing.assert_allclose(eq.income.sum(axis=1), final.sum(axis=(1, 2)), rtol=1e-10)
    np.testing.assert_allclose(eq.income.sum(axis=1), (eq.w_hat * base.value_added).sum(axis=1) + revenue, rtol=1e-10)
    # numeraire: world value added unchanged
    np.testing.assert_allclose((eq.w_hat * base.value_added).sum(axis=1), base.value_added.sum(axis=1), rtol=1e-12)
    # deficits as requested: purchases − sales = D'
    deficit = eq.flows.sum(axis=(1, 3)) - eq.flows.sum(axis=(2, 3))
    np.testing.assert_allclose(deficit, base.deficit + change, atol=1e-9 * sales.max())


def test_currency_unit_invariance():
    world = random_world(seed=7)
    big = type(world)(world.countries, world.sectors, world.flows * 1000, value_added_share=world.value_added_share,
                      io_coefficients=world.io_coefficients)
    tb, tn = _tariffs(world, 2, seed=8)
    theta = np.array([4.0, 5.0, 6.0])
    a = run_ge(Shocks.from_rates(world, tb, tn), theta)
    b = run_ge(Shocks.from_rates(big, tb, tn), theta)
    for col in ("welfare_pct", "welfare_tot_pct", "real_wage_pct", "exports_pct", "etr"):
        np.testing.assert_allclose(a.country[col], b.country[col], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.country["tariff_revenue"] * 1000, b.country["tariff_revenue"], rtol=1e-8)


def test_purge_zeroes_deficits_and_transfers():
    world = random_world(seed=9, io=False)
    tb, tn = _tariffs(world, 1, seed=10)
    res = run_ge(Shocks.from_rates(world, tb, tn), 5.0, deficits="purge")
    base = res.flow["flow_base"][0]
    assert np.max(np.abs(base.sum(axis=(0, 2)) - base.sum(axis=(1, 2)))) < 1e-8 * base.sum()
    transfer = np.zeros((1, 5))
    transfer[0, :2] = [10.0, -10.0]
    res = run_ge(Shocks.from_rates(world, tb, tb, deficit_change=transfer), 5.0)
    assert res.country["welfare_pct"][0, 0] > 0 > res.country["welfare_pct"][0, 1]


def test_convergence_error_and_sweep_mode():
    world = random_world(seed=11)
    tb, tn = _tariffs(world, 2, seed=12, scale=0.5)
    shocks = Shocks.from_rates(world, tb, tn)
    with pytest.raises(ConvergenceError) as err:
        run_ge(shocks, 5.0, max_iter=1)
    info = err.value.info
    assert not info.all_converged and info.iterations.shape == (2,)
    res = run_ge(shocks, 5.0, max_iter=1, raise_on_failure=False)
    assert not res.solver.success.any()


def test_ignored_shocks_warn():
    world = random_world(seed=13, io=False)
    tb, _ = _tariffs(world, 1)
    shocks = Shocks.from_rates(world, tb, tb, currency=np.full((1, 5), 0.05))
    with pytest.warns(UserWarning, match="currency"):
        res = run_ge(shocks, 5.0)
    assert any("currency" in w for w in res.provenance["warnings"])


def test_bad_parameters():
    world = random_world(seed=14, io=False)
    tb, _ = _tariffs(world, 1)
    shocks = Shocks.from_rates(world, tb, tb)
    with pytest.raises(DataError, match="'deficits' parameter of run_ge must be a str among"):
        run_ge(shocks, 5.0, deficits="zero")
    with pytest.raises(DataError, match="'trade_elasticity' parameter"):
        run_ge(shocks, np.ones(7))
    with pytest.raises(DataError, match="positive"):
        run_ge(shocks, -1.0)
    with pytest.raises(DataError, match="sum to zero"):
        run_ge(Shocks.from_rates(world, tb, tb, deficit_change=np.ones((1, 5))), 5.0)


def test_productivity_raises_real_wage():
    world = random_world(seed=15)
    tb, _ = _tariffs(world, 1)
    z = np.ones((1, 5, 3))
    z[0, 0] = 1.1
    res = run_ge(Shocks.from_rates(world, tb, tb, productivity=z), np.array([4.0, 5.0, 6.0]))
    assert res.country["real_wage_pct"][0, 0] > 0
