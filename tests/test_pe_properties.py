"""Property tests for the PE kernels, and PEParameters / pe_defaults (values and messages)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tariffsim import TradeWorld
from tariffsim.errors import DataError
from tariffsim.kernels.gsim import gsim
from tariffsim.kernels.smart import smart
from tariffsim.models.parameters import (
    FALLBACK_TRADE_ELASTICITY,
    WITS_EXPORT_SUPPLY,
    WITS_IMPORT_DEMAND,
    WITS_SUBSTITUTION,
    PEParameters,
    import_shares,
    pe_defaults,
)

N, S, B = 3, 2, 2
rates = arrays(float, (B, N, N, S), elements=st.floats(0.0, 2.0))
flows = arrays(float, (N, N, S), elements=st.one_of(st.just(0.0), st.floats(1e-3, 1e4)))
elasticity = st.floats(0.05, 20.0)
supply = st.one_of(st.just(np.inf), st.floats(0.05, 100.0))
vec = st.lists(elasticity, min_size=S, max_size=S)
eta_any = st.one_of(vec, arrays(float, (N, S), elements=elasticity))  # (S,) or per importer (n, S)
svec = st.lists(supply, min_size=S, max_size=S)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_flows(eff, m, t1):
    off = (1 - np.eye(N))[:, :, None]
    for name in ("flow_new", "trade_creation", "trade_diversion", "price_effect"):
        assert np.all(np.isfinite(getattr(eff, name))), name
    assert np.all(eff.flow_new >= 0)
    assert np.all(eff.flow_new * (1 - off) == 0)  # nothing on the diagonal
    assert np.all(np.isfinite(eff.revenue_new)) and np.all(eff.revenue_new >= 0)
    assert np.all(np.isfinite(eff.consumer_surplus)) and np.all(np.isfinite(eff.producer_surplus))
    scale = 1 + m.sum() + eff.flow_new.sum(axis=(1, 2, 3)).max()
    np.testing.assert_allclose(eff.trade_diversion.sum(axis=1), 0.0, atol=1e-9 * scale)
    np.testing.assert_allclose(
        eff.flow_new, m * off + eff.trade_creation + eff.trade_diversion + eff.price_effect, atol=1e-9 * scale
    )


@SETTINGS
@given(m=flows, t0=rates, t1=rates, eta=eta_any, sigma=vec, eps=svec, method=st.sampled_from(["linear", "exact"]))
def test_smart_flows_and_revenue_finite_and_non_negative(m, t0, t1, eta, sigma, eps, method):
    eff = smart(m, t0, t1, eta, sigma, eps, method=method)
    check_flows(eff, m, t1)
    if method == "linear":  # the ceiling: nobody loses more than its imports to diversion
        assert np.all(eff.trade_diversion >= -np.broadcast_to(m * (1 - np.eye(N))[:, :, None], t0.shape) - 1e-9)


@SETTINGS
@given(m=flows, t0=rates, t1=rates, eta=eta_any, sigma=vec, eps=svec)
def test_gsim_flows_and_revenue_finite_and_non_negative(m, t0, t1, eta, sigma, eps):
    eff = gsim(m, t0, t1, eta, sigma, eps, max_iter=100)
    assert eff.success.all(), (eff.max_residual, eff.message)
    check_flows(eff, m, t1)
    sales = eff.flow_new.sum(axis=2)  # (B, n, S): value of each exporter's sales
    np.testing.assert_allclose(eff.excess_demand, 0.0, atol=1e-9 * (1 + sales.max()))


# ----------------------------------------------------------------- parameters
def two_sector_world() -> TradeWorld:
    """Importer 0 buys 30 of C28 from abroad out of 100 absorbed (m = 0.3), nothing of C29 (m = 0)."""
    flows = np.zeros((2, 2, 2))
    flows[0, 0] = [70.0, 50.0]
    flows[1, 0] = [30.0, 0.0]
    flows[1, 1] = [10.0, 40.0]
    flows[0, 1] = [10.0, 40.0]  # importer B: m = 0.5 in both
    return TradeWorld(("A", "B"), ("C28", "C29"), flows)


def test_defaults_follow_the_documented_rule():
    datasets = pytest.importorskip("tariffsim.datasets")
    world = datasets.load_world()
    theta = datasets.load_elasticities("fgo2022")[list(world.sectors)].to_numpy()
    p = pe_defaults(world.sectors, world=world)
    np.testing.assert_allclose(p.substitution, 1 + theta)  # σ = 1 + θ
    m = import_shares(world.flows)
    np.testing.assert_allclose(p.import_demand, (1 + theta) * (1 - m) + m)  # η_js = σ_s (1 - m_js) + m_js
    assert p.import_demand.shape == (world.n_countries, world.n_sectors)
    assert np.all(p.import_demand <= p.substitution) and np.all(p.import_demand >= 1)  # substitutes
    assert np.all(p.export_supply == WITS_EXPORT_SUPPLY) and WITS_EXPORT_SUPPLY == 99.0
    # deferred: the same values once the model knows its world
    lazy = pe_defaults(world.sectors)
    assert lazy.import_demand is None and lazy.derived
    np.testing.assert_array_equal(lazy.for_world(world).import_demand, p.import_demand)
    cp = pe_defaults(world.sectors, source="cp2015", world=world)
    np.testing.assert_allclose(
        cp.substitution, 1 + datasets.load_elasticities("cp2015")[list(world.sectors)].to_numpy()
    )
    assert "fgo2022" in p.source and "sigma = 1 + theta" in p.source


def test_import_demand_by_hand():
    """σ = 1 + 4 = 5. Importer A: m = 0.3 in C28 -> η = 5 (0.7) + 0.3 = 3.8; m = 0 in C29 -> η = 5.
    Importer B: m = 0.5 -> η = 3."""
    w = two_sector_world()
    p = pe_defaults(w.sectors, source=None, world=w)
    np.testing.assert_allclose(p.import_demand, [[3.8, 5.0], [3.0, 3.0]])
    assert p.countries == ("A", "B")


def test_wits_convention():
    p = pe_defaults(["X", "Y"], convention="wits")
    assert p.substitution.tolist() == [WITS_SUBSTITUTION] * 2 and WITS_SUBSTITUTION == 1.5
    assert p.import_demand.tolist() == [WITS_IMPORT_DEMAND] * 2
    assert p.export_supply.tolist() == [99.0, 99.0] and "WITS" in p.source
    mine = pe_defaults(["X", "Y"], convention="wits", import_demand=[0.8, 2.5])
    assert mine.import_demand.tolist() == [0.8, 2.5]
    with pytest.raises(
        DataError, match=r"The 'convention' parameter of pe_defaults must be a str among .*'wits'.* Got 'wis'"
    ):
        pe_defaults(["X"], convention="wis")


def test_constant_rule_without_source():
    w = two_sector_world()
    p = pe_defaults(w.sectors, source=None)
    np.testing.assert_array_equal(p.substitution, [1 + FALLBACK_TRADE_ELASTICITY] * 2)
    np.testing.assert_array_equal(pe_defaults(w.sectors, trade_elasticity=[4.0, 4.0]).substitution, p.substitution)


def test_overrides_are_applied_and_recorded():
    w = two_sector_world()
    p = pe_defaults(w.sectors, source=None).with_overrides({"C29": {"substitution": 3.0}})
    assert p.substitution.tolist() == [5.0, 3.0]
    assert p.overrides == (("C29", "substitution", 3.0),)
    assert p.to_dict()["overrides"] == [["C29", "substitution", 3.0]]
    # derived η follows the overridden σ; an η override wins for its sector, every importer
    np.testing.assert_allclose(p.for_world(w).import_demand, [[3.8, 3.0], [3.0, 2.0]])
    q = p.with_overrides({"C28": {"import_demand": 1.2}}).for_world(w)
    np.testing.assert_allclose(q.import_demand, [[1.2, 3.0], [1.2, 2.0]])
    # overriding σ after derivation re-derives η for that sector only
    r = pe_defaults(w.sectors, source=None, world=w).with_overrides({"C28": {"substitution": 2.0}})
    np.testing.assert_allclose(r.import_demand, [[2.0 * 0.7 + 0.3, 5.0], [1.5, 3.0]])
    # given (S,) η stays as given
    given = PEParameters([2.0, 2.0], [1.5, 1.5], [99.0, 99.0], sectors=w.sectors).with_overrides(
        {"C28": {"import_demand": 4}}
    )
    assert given.import_demand.tolist() == [4.0, 2.0] and given.for_world(w) is given


def test_importer_specific_import_demand_checks_the_world():
    w = two_sector_world()
    with pytest.raises(DataError, match=r"import_demand for 3 importer\(s\) but the world has 2 countries"):
        PEParameters(np.ones((3, 2)), [2.0, 2.0], [1.0, 1.0]).for_world(w)
    with pytest.raises(
        DataError, match=r"'import_demand' elasticity of sector 'C29', importer B must be a finite number > 0"
    ):
        PEParameters([[1.0, 1.0], [1.0, -1.0]], [2.0, 2.0], [1.0, 1.0], sectors=w.sectors, countries=w.countries)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(import_demand=[1.0, -2.0]),
            r"The 'import_demand' elasticity of sector 'C29' must be a finite number > 0; got -2.0\. "
            r"Elasticities are positive numbers",
        ),
        (
            dict(substitution=[np.inf, 1.0]),
            r"The 'substitution' elasticity of sector 'C28' must be a finite number > 0; got inf",
        ),
        (
            dict(export_supply=[0.0, np.nan]),
            r"The 'export_supply' elasticity of sector 'C28' must be a number > 0 \(inf allowed: given world prices\); "
            r"got 0.0 \(1 more sector\(s\) also invalid\)",
        ),
        (
            dict(import_demand=[1.0, 2.0, 3.0]),
            r"The 'import_demand' elasticity must have shape \(2,\) or \(n_importer, 2\), one value per sector; "
            r"got shape \(3,\)",
        ),
    ],
)
def test_impossible_parameters_have_clear_messages(kwargs, message):
    base = dict(import_demand=[1.0, 1.0], substitution=[1.0, 1.0], export_supply=[1.0, np.inf])
    base.update(kwargs)
    with pytest.raises(DataError, match=message):
        PEParameters(**base, sectors=("C28", "C29"))


def test_override_errors_suggest_names():
    p = pe_defaults(["C28", "C29"], source=None)
    with pytest.raises(
        DataError, match=r"'import_demand' elasticity of sector 'C29' must be a finite number > 0; got 0.0"
    ):
        p.with_overrides({"C29": {"import_demand": 0.0}})  # checked even while η is derived
    with pytest.raises(DataError, match=r"override for unknown sector 'c29'.*Did you mean 'C29'\?"):
        p.with_overrides({"c29": {"substitution": 2.0}})
    with pytest.raises(DataError, match=r"unknown elasticity 'substitutoin'.*Did you mean 'substitution'\?"):
        p.with_overrides({"C29": {"substitutoin": 2.0}})
    with pytest.raises(
        DataError, match=r"'substitution' elasticity of sector 'C29' must be a finite number > 0; got -1.0"
    ):
        p.with_overrides({"C29": {"substitution": -1}})


# ----------------------------------------------------------------- kernels._util helpers
from tariffsim.kernels import _util  # noqa: E402

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
num_den = arrays(float, (4, 3), elements=finite)


@SETTINGS
@given(num=num_den, den=arrays(float, (1, 3), elements=st.one_of(st.just(0.0), st.floats(1e-3, 1e3),
                                                                 st.floats(-1e3, -1e-3))))
def test_safe_div_and_exact_div(num, den):
    """0 (NaN for div_or_nan) where the denominator is 0; elsewhere exact_div and div_or_nan are num/den
    exactly and safe_div within 2 ulp."""
    safe, exact = _util.safe_div(num, den), _util.exact_div(num, den)
    zero = np.broadcast_to(den == 0, num.shape)
    assert np.all(safe[zero] == 0) and np.all(exact[zero] == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = num / den
    np.testing.assert_array_equal(exact[~zero], direct[~zero])
    np.testing.assert_allclose(safe[~zero], direct[~zero], rtol=4e-16, atol=0)
    assert np.all(np.isfinite(safe)) and np.all(np.isfinite(exact))
    ratio = _util.div_or_nan(num, den)  # NaN (no ratio) instead of 0 where den == 0
    assert np.all(np.isnan(ratio[zero]))
    np.testing.assert_array_equal(ratio[~zero], direct[~zero])


@SETTINGS
@given(z=arrays(float, 8, elements=st.floats(-700, 700)))
def test_exprel_is_expm1_over_z_with_limit_one(z):
    out = _util.exprel(z)
    assert np.all(np.isfinite(out)) and np.all(out > 0)  # (e^z - 1)/z > 0 for every real z
    big = np.abs(z) > 1e-4
    np.testing.assert_allclose(out[big], np.expm1(z[big]) / z[big], rtol=1e-14)
    small = ~big  # series 1 + z/2 + z²/6: no cancellation near 0
    np.testing.assert_allclose(out[small], 1 + z[small] / 2 + z[small] ** 2 / 6, rtol=1e-12)
    assert _util.exprel(np.array([0.0]))[0] == 1.0


@SETTINGS
@given(a=arrays(float, (2, 3, 3, 2), elements=st.one_of(finite, st.just(np.nan), st.just(np.inf))))
def test_offdiagonal_zeroes_the_diagonal_only(a):
    before = a.copy()
    out = _util.offdiagonal(a)
    np.testing.assert_array_equal(a, before)  # the input is not modified
    eye = np.eye(3, dtype=bool)
    assert np.all(out[:, eye, :] == 0.0)  # also where the diagonal was NaN or inf
    np.testing.assert_array_equal(out[:, ~eye, :], a[:, ~eye, :])
    finite_a = np.nan_to_num(a, nan=0.0, posinf=0.0)
    np.testing.assert_array_equal(_util.offdiagonal(finite_a), finite_a * _util.offdiag_mask(3))


@SETTINGS
@given(c=arrays(float, (2, 4), elements=st.floats(-0.9, 5.0)))
def test_currency_wedge_and_factor_are_one_definition(c):
    """w_ij - 1 = (1 + c_i)/(1 + c_j) - 1, 0 on the diagonal; the GE factor is 1 + that, 1 on the diagonal."""
    wedge, factor = _util.currency_wedge(c, 4), _util.currency_factor(c)
    assert factor.shape == (2, 4, 4, 1)
    idx = np.arange(4)
    assert np.all(factor[:, idx, idx, 0] == 1.0)
    direct = (1 + c)[:, :, None] / (1 + c)[:, None, :]
    np.testing.assert_allclose(factor[..., 0], direct, rtol=1e-15)
    if not np.any(c):
        assert wedge is None
        return
    assert np.all(wedge[:, idx, idx] == 0.0)
    np.testing.assert_allclose(1.0 + wedge, factor[..., 0], rtol=1e-14)
    same = c[:, :, None] == c[:, None, :]
    assert np.all(wedge[same] == 0.0)  # equal appreciations: exactly no wedge


@SETTINGS
@given(w=arrays(float, (3, 2), elements=st.one_of(st.just(0.0), st.floats(1e-3, 1e3))),
       x=arrays(float, (3, 2), elements=st.floats(-3, 3)), rho=st.floats(-10, 0.99))
def test_log_ces_mean_is_the_log_ces_index(w, x, rho):
    """ln(Σ w e^{ρx} / Σ w)/ρ along axis 0, Σ w x / Σ w as ρ -> 0, 0 for an empty market."""
    out = _util.log_ces_mean(w, x, np.full(2, rho), axis=0)[0]
    total = w.sum(axis=0)
    for k in range(2):
        if total[k] == 0:
            assert out[k] == 0.0
        elif abs(rho) < 1e-6:  # the direct form cancels here: second-order expansion mean + ρ var / 2
            p = w[:, k] / total[k]
            mean = (p * x[:, k]).sum()
            var = (p * (x[:, k] - mean) ** 2).sum()
            assert out[k] == pytest.approx(mean + 0.5 * rho * var, rel=1e-9, abs=1e-9)
        else:
            direct = np.log((w[:, k] * np.exp(rho * x[:, k])).sum() / total[k]) / rho
            assert out[k] == pytest.approx(direct, rel=1e-9, abs=1e-9)


@SETTINGS
@given(t0=arrays(float, (3, 2, 4, 3), elements=st.sampled_from([0.0, 0.1, 0.25])),
       t1=arrays(float, (3, 2, 4, 3), elements=st.sampled_from([0.0, 0.1, 0.25])))
def test_changed_cells_is_any_over_scenarios_and_exporters(t0, t1):
    np.testing.assert_array_equal(_util.changed_cells(t0, t1), np.any(t1 != t0, axis=(0, 1)))
