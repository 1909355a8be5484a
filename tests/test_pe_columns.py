"""PE per-country columns shared with the other models: goods ETR, welfare_pct, the default SMART
method, and DataError for input the PE kernels cannot compute (issue 12)."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import numpy as np
import pytest

from tariffsim import Shocks, TradeWorld
from tariffsim.errors import DataError
from tariffsim.models.parameters import PEParameters
from tariffsim.models.pe import run_gsim, run_smart

REPO = Path(__file__).resolve().parents[1]
RUNS = [(run_smart, "linear"), (run_smart, "exact"), (run_gsim, "exact"), (run_gsim, "linear")]


def services_world(vas=False) -> TradeWorld:
    """4 countries, goods G1, G2 and one services sector SV (no duty in the world's definition)."""
    rng = np.random.default_rng(7)
    flows = rng.lognormal(3, 1, (4, 4, 3))
    flows[np.arange(4), np.arange(4)] *= 20  # domestic sales
    extra = {"value_added_share": rng.uniform(0.3, 0.7, (4, 3))} if vas else {}
    return TradeWorld(("A", "B", "C", "D"), ("G1", "G2", "SV"), flows, goods=[True, True, False], **extra)


def pe_params() -> PEParameters:
    return PEParameters([2.0, 1.5, 1.2], [3.0, 4.0, 2.0], [2.0, np.inf, 5.0], sectors=("G1", "G2", "SV"))


def goods_etr(rates, flows, goods):
    """Σ_{i != j, s in goods} t M / Σ M by importer, from the flow columns (independent of the model code)."""
    off = (1 - np.eye(flows.shape[-2]))[:, :, None]
    m = flows * off * np.asarray(goods, float)
    return (rates * m).sum(axis=(-3, -1)) / m.sum(axis=(-3, -1))


def services_shocks(w, case):
    rng = np.random.default_rng(8)
    t0 = np.zeros((2, 4, 4, 3))
    t0[:, :, :, 2] = 0.05  # a duty on services at baseline: goods ETR must leave it out
    t0[:, :, :, :2] = 0.02
    t1 = np.array(t0)
    t1[:, :, 1, :2] += rng.uniform(0, 0.5, (2, 4, 2))  # importer B raises tariffs on goods
    kw = {}
    if case == "services_tariff":
        t1[:, :, 2, 2] = 0.3  # importer C taxes services: services flows move
    if case == "currency":
        kw["currency"] = np.array([[0.0, 0.0, 0.0, 0.0], [0.1, -0.05, 0.0, 0.02]])
    return Shocks.from_rates(w, t0, t1, **kw)


@pytest.mark.parametrize("case", ["goods_only", "services_tariff", "currency"])
@pytest.mark.parametrize("run, method", RUNS)
def test_pe_etr_is_over_goods_imports_at_the_models_flows(run, method, case):
    """etr = Σ t'M' / Σ M' and etr_base = Σ t M / Σ M over goods sectors only, from the flow columns;
    flows=False (no per-flow arrays; closed-form totals for GSIM linear) gives the same numbers."""
    w = services_world()
    sh = services_shocks(w, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # linear clipping warnings
        r = run(sh, pe_params(), method=method)
        lean = run(sh, pe_params(), method=method, flows=False)
    f = r.flow
    np.testing.assert_allclose(r.country["etr_base"], goods_etr(f["tariff_base"], f["flow_base"], w.goods), rtol=1e-13)
    np.testing.assert_allclose(r.country["etr"], goods_etr(f["tariff_new"], f["flow_new"], w.goods), rtol=1e-12)
    every = goods_etr(f["tariff_base"], f["flow_base"], [True] * 3)
    assert np.all(np.abs(r.country["etr_base"] - every) > 1e-4)  # services are really left out
    for name in ("etr", "etr_base", "welfare_pct", "tariff_revenue"):
        np.testing.assert_allclose(lean.country[name], r.country[name], rtol=1e-11, err_msg=name)


def test_us_base_etr_is_the_same_in_every_model():
    """Issue 12: the US base rate was 1.18% in SMART and GSIM (services included) and 1.71% in
    accounting and GE. Now one definition (world.goods): 1.71% everywhere."""
    from tariffsim.datasets import load_world
    from tariffsim.simulate import simulate

    w = load_world()
    u = w.countries.index("USA")
    scenario = str(REPO / "scenarios" / "korea_us_2025" / "liberation_day.toml")
    base = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in ("accounting", "smart", "gsim", "ge"):
            r = simulate(w, [scenario], model)
            base[model] = r.country["etr_base"][0, u]
    rates = r.flow["tariff_base"][0]
    direct = goods_etr(rates, w.flows, w.goods)[u]
    assert round(100 * direct, 2) == 1.71
    assert round(100 * goods_etr(rates, w.flows, [True] * w.n_sectors)[u], 2) == 1.18  # what PE showed before
    for model, value in base.items():
        assert value == pytest.approx(direct, rel=1e-12), model


@pytest.mark.parametrize("vas", [False, True])
@pytest.mark.parametrize("run, method", RUNS)
def test_pe_welfare_pct_is_welfare_change_over_gdp(run, method, vas):
    """welfare_pct = 100 ΔW / GDP, GDP = Σ_s γ_s Y_s (gross output Y_s = all sales incl. home; γ = 1
    without value_added_share), computed here from the world's arrays."""
    w = services_world(vas)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run(services_shocks(w, "goods_only"), pe_params(), method=method)
    output = w.flows.sum(axis=1)  # (n, S): Y_ns
    gdp = (w.value_added_share * output).sum(axis=1) if vas else output.sum(axis=1)
    np.testing.assert_allclose(r.country["welfare_pct"], 100 * r.country["welfare_change"] / gdp, rtol=1e-14)
    assert np.any(r.country["welfare_pct"] != 0) and np.all(np.isfinite(r.country["welfare_pct"]))
    from tariffsim.results import COUNTRY_COLUMNS

    assert "PE" in COUNTRY_COLUMNS["welfare_pct"] and "GDP" in COUNTRY_COLUMNS["welfare_pct"]


def test_smart_default_method_is_exact_in_one_place():
    """The registry's SMART method default is "exact" (= run_smart's), and simulate (which run --model smart,
    sweeps and compare use) follows it: the same numbers as method="exact", no clipping warning for an 80% tariff."""
    from tariffsim.models.registry import get_model
    from tariffsim.simulate import simulate

    method = next(o for o in get_model("smart").options if o.name == "method")
    assert method.default == "exact" == inspect.signature(run_smart).parameters["method"].default
    w = services_world()
    t1 = np.zeros((1, 4, 4, 3))
    t1[0, :, 1, :] = 0.8
    sh = Shocks.from_rates(w, np.zeros((4, 4, 3)), t1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the exact method never clips
        default = simulate(w, sh, "smart", params=pe_params())
    exact = run_smart(sh, pe_params(), method="exact")
    assert default.provenance["method"] == "exact"
    for name, arr in exact.country.items():
        np.testing.assert_array_equal(default.country[name], arr, err_msg=name)
    with pytest.warns(UserWarning, match="clipped at zero"):
        run_smart(sh, pe_params(), method="linear")


# ----------------------------------------------------------------- bad input -> DataError
def _shocks(w, **kw):
    n, s = w.n_countries, w.n_sectors
    t1 = np.zeros((1, n, n, s))
    t1[0, :, 1, 0] = 0.1
    return Shocks.from_rates(w, np.zeros((n, n, s)), t1, **kw)


@pytest.mark.parametrize("run", [run_smart, run_gsim])
def test_world_without_imports_is_a_data_error(run):
    flows = np.zeros((3, 3, 2))
    flows[np.arange(3), np.arange(3)] = 10.0  # domestic sales only
    w = TradeWorld(("A", "B", "C"), ("S1", "S2"), flows, name="autarky")
    with pytest.raises(DataError, match=r"'autarky' has no import flows.*world\.flows.*load_world"):
        run(_shocks(w), PEParameters([2.0, 2.0], [3.0, 3.0], [1.0, 1.0]))


@pytest.mark.parametrize("run", [run_smart, run_gsim])
@pytest.mark.parametrize("field, value, where", [
    ("import_demand", np.nan, "sector=G2"), ("substitution", -1.0, "sector=G2"), ("export_supply", np.nan, "sector=G2"),
    ("import_demand_2d", np.nan, "importer=C, sector=G2"),
])
def test_bad_elasticities_reaching_the_model_name_the_argument(run, field, value, where):
    """PEParameters validates on construction; arrays changed afterwards (or built around the
    validation) are caught before the kernel, naming the field, the entry and a fix."""
    p = pe_params().for_world(services_world())
    name = field.removesuffix("_2d")
    arr = np.array(getattr(p, name), dtype=float)
    if field.endswith("_2d"):
        arr = np.broadcast_to(arr, (4, 3)).copy() if arr.ndim == 1 else arr
        arr[2, 1] = value
    else:
        arr[..., 1] = value
    object.__setattr__(p, name, arr)
    with pytest.raises(DataError, match=rf"params\.{name} of run_\w+ is (nan|-1\.0) for {where}.*PEParameters"):
        run(_shocks(services_world()), p)


@pytest.mark.parametrize("run", [run_smart, run_gsim])
@pytest.mark.parametrize("rate, match", [(np.nan, "is nan for exporter=A, importer=B"), (-1.5, "is -1.5"),
                                         (np.inf, "is inf")])
def test_bad_rates_name_the_flow(run, rate, match):
    w = services_world()
    sh = _shocks(w)
    t1 = np.array(sh.tariff_new)
    t1[0, 0, 1, 0] = rate
    with pytest.raises(DataError, match=rf"tariff_new of scenario 'scenario_0' {match}.*finite and > -1"):
        run(Shocks.from_rates(w, sh.tariff_base, t1), pe_params())


@pytest.mark.parametrize("run", [run_smart, run_gsim])
def test_non_finite_commitments_and_currency_are_data_errors(run):
    w = services_world()
    d = np.zeros((1, 4, 4, 3))
    d[0, 2, 1, 0] = np.inf
    match = r"shocks\.demand_shift .* is inf for scenario 'scenario_0', exporter=C, importer=B"
    with pytest.raises(DataError, match=match):
        run(_shocks(w, demand_shift=d), pe_params())
    with pytest.raises(DataError, match=r"shocks\.currency .* is nan for scenario 'scenario_0', B"):
        run(_shocks(w, currency=np.array([[0.0, np.nan, 0.0, 0.0]])), pe_params())
    with pytest.raises(DataError, match=r"currency of scenario 'scenario_0' is -1\.0 for D; .* > -1"):
        run(_shocks(w, currency=np.array([[0.0, 0.0, 0.0, -1.0]])), pe_params())


def test_gsim_linear_fast_path_with_taxed_services(monkeypatch):
    """Tariffs on goods and services into one importer, one baseline for the batch: flows=False solves the
    goods and the services sectors apart, both with the closed-form totals, and gives flows=True's columns."""
    from tariffsim.kernels import gsim_linear

    calls = []
    real = gsim_linear.finish_closed
    monkeypatch.setattr(gsim_linear, "finish_closed", lambda *a: calls.append(1) or real(*a))
    w = services_world()
    rng = np.random.default_rng(9)
    t0 = np.full((4, 4, 3), 0.03)
    t1 = np.broadcast_to(t0, (800, 4, 4, 3)).copy()  # a batch large enough to split (kernels.gsim)
    t1[:, :, 1, :] += rng.uniform(0, 0.3, (800, 4, 3))  # goods and services into B
    sh = Shocks.from_rates(w, t0, t1)
    full = run_gsim(sh, pe_params(), method="linear")
    assert not calls
    lean = run_gsim(sh, pe_params(), method="linear", flows=False)
    assert len(calls) == 2  # one block of the goods sectors (G1, G2), one of the services sector (SV)
    for name, arr in full.country.items():
        np.testing.assert_allclose(lean.country[name], arr, rtol=1e-12, atol=1e-10, err_msg=name)
    np.testing.assert_allclose(lean.country["etr"], goods_etr(full.flow["tariff_new"], full.flow["flow_new"], w.goods),
                               rtol=1e-12)
