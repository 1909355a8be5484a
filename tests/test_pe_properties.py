"""Property tests for the PE kernels, and PEParameters / pe_defaults (values and messages)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tariffsim.errors import DataError
from tariffsim.kernels.gsim import gsim
from tariffsim.kernels.smart import smart
from tariffsim.parameters import (
    FALLBACK_TRADE_ELASTICITY,
    WITS_EXPORT_SUPPLY,
    WITS_SUBSTITUTION,
    PEParameters,
    pe_defaults,
)

N, S, B = 3, 2, 2
rates = arrays(float, (B, N, N, S), elements=st.floats(0.0, 2.0))
flows = arrays(float, (N, N, S), elements=st.one_of(st.just(0.0), st.floats(1e-3, 1e4)))
elasticity = st.floats(0.05, 20.0)
supply = st.one_of(st.just(np.inf), st.floats(0.05, 100.0))
vec = st.lists(elasticity, min_size=S, max_size=S)
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
@given(m=flows, t0=rates, t1=rates, eta=vec, sigma=vec, eps=svec, method=st.sampled_from(["linear", "exact"]))
def test_smart_flows_and_revenue_finite_and_non_negative(m, t0, t1, eta, sigma, eps, method):
    eff = smart(m, t0, t1, eta, sigma, eps, method=method)
    check_flows(eff, m, t1)
    if method == "linear":  # the ceiling: nobody loses more than its imports to diversion
        assert np.all(eff.trade_diversion >= -np.broadcast_to(m * (1 - np.eye(N))[:, :, None], t0.shape) - 1e-9)


@SETTINGS
@given(m=flows, t0=rates, t1=rates, eta=vec, sigma=vec, eps=svec)
def test_gsim_flows_and_revenue_finite_and_non_negative(m, t0, t1, eta, sigma, eps):
    eff = gsim(m, t0, t1, eta, sigma, eps, max_iter=100)
    assert eff.success.all(), (eff.max_residual, eff.message)
    check_flows(eff, m, t1)
    sales = eff.flow_new.sum(axis=2)  # (B, n, S): value of each exporter's sales
    np.testing.assert_allclose(eff.excess_demand, 0.0, atol=1e-9 * (1 + sales.max()))


# ----------------------------------------------------------------- parameters
def test_defaults_follow_the_documented_rule():
    datasets = pytest.importorskip("tariffsim.datasets")
    sectors = tuple(datasets.load_elasticities("fgo2022").index)
    p = pe_defaults(sectors)
    theta = datasets.load_elasticities("fgo2022").to_numpy()
    np.testing.assert_allclose(p.import_demand, 1 + theta)
    assert np.all(p.substitution == WITS_SUBSTITUTION) and WITS_SUBSTITUTION == 1.5
    assert np.all(p.export_supply == WITS_EXPORT_SUPPLY) and WITS_EXPORT_SUPPLY == 99.0
    cp = pe_defaults(sectors, source="cp2015")
    np.testing.assert_allclose(cp.import_demand, 1 + datasets.load_elasticities("cp2015").to_numpy())
    assert "fgo2022" in p.source and "WITS" in p.source


def test_constant_rule_without_source():
    p = pe_defaults(["X", "Y"], source=None)
    np.testing.assert_array_equal(p.import_demand, [1 + FALLBACK_TRADE_ELASTICITY] * 2)


def test_unknown_sector_in_source():
    pytest.importorskip("tariffsim.datasets")
    with pytest.raises(DataError, match=r"elasticity source 'fgo2022' has no value for sector\(s\) \[XX\].*source=None"):
        pe_defaults(["A01", "XX"])


def test_overrides_are_applied_and_recorded():
    p = pe_defaults(["C28", "C29"], source=None).with_overrides({"C29": {"substitution": 3.0}})
    assert p.substitution.tolist() == [1.5, 3.0]
    assert p.overrides == (("C29", "substitution", 3.0),)
    assert p.to_dict()["overrides"] == [["C29", "substitution", 3.0]]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(import_demand=[1.0, -2.0]),
         r"The 'import_demand' elasticity of sector 'C29' must be a finite number > 0; got -2.0\. "
         r"Elasticities are positive numbers"),
        (dict(substitution=[np.inf, 1.0]),
         r"The 'substitution' elasticity of sector 'C28' must be a finite number > 0; got inf"),
        (dict(export_supply=[0.0, np.nan]),
         r"The 'export_supply' elasticity of sector 'C28' must be a number > 0 \(inf allowed: given world prices\); "
         r"got 0.0 \(1 more sector\(s\) also invalid\)"),
        (dict(import_demand=[1.0, 2.0, 3.0]),
         r"The 'import_demand' elasticity must have shape \(2,\), one value per sector; got shape \(3,\)"),
    ],
)
def test_impossible_parameters_have_clear_messages(kwargs, message):
    base = dict(import_demand=[1.0, 1.0], substitution=[1.0, 1.0], export_supply=[1.0, np.inf])
    base.update(kwargs)
    with pytest.raises(DataError, match=message):
        PEParameters(**base, sectors=("C28", "C29"))


def test_override_errors_suggest_names():
    p = pe_defaults(["C28", "C29"], source=None)
    with pytest.raises(DataError, match=r"override for unknown sector 'c29'.*Did you mean 'C29'\?"):
        p.with_overrides({"c29": {"substitution": 2.0}})
    with pytest.raises(DataError, match=r"unknown elasticity 'substitutoin'.*Did you mean 'substitution'\?"):
        p.with_overrides({"C29": {"substitutoin": 2.0}})
    with pytest.raises(DataError, match=r"'substitution' elasticity of sector 'C29' must be a finite number > 0; got -1.0"):
        p.with_overrides({"C29": {"substitution": -1}})
