"""The prices model on the shipped Korea scenarios: consistency, options, tables, errors, report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tariffsim.errors import DataError
from tariffsim.models.accounting import run_accounting
from tariffsim.models.prices import run_prices
from tariffsim.models.prices_tables import format_prices_report
from tariffsim.schedule import prepare_schedule

_REGISTER = (
    "from tariffsim.models.registry import model_names, register\n"
    "from tariffsim.models.prices_entry import PRICES_ENTRY\n"
    "if 'prices' not in model_names():\n"
    "    register(PRICES_ENTRY)\n"
)


@pytest.fixture
def registered():
    """The prices entry in the registry (added at run time until it is built in)."""
    from tariffsim.models.prices_entry import PRICES_ENTRY
    from tariffsim.models.registry import model_names, register, unregister

    added = "prices" not in model_names()
    if added:
        register(PRICES_ENTRY)
    yield
    if added:
        unregister("prices")


@pytest.fixture(scope="module")
def deal(korea_scenarios):
    sched = prepare_schedule(korea_scenarios["deal_15pct"])
    return sched, sched.shocks()


@pytest.fixture(scope="module")
def deal_result(deal):
    sched, shocks = deal
    return run_prices(shocks, [sched])


def test_etr_matches_the_customs_accounting(deal, deal_result):
    sched, shocks = deal
    acc = run_accounting(shocks, [sched]).tables["us_partners"]
    world = acc[acc["partner"] == "WORLD"].iloc[0]
    us = deal_result.countries.index("USA")
    assert deal_result.country["etr"][0, us] == pytest.approx(world["etr"], rel=1e-9)
    assert deal_result.country["etr_base"][0, us] == pytest.approx(world["etr_base"], rel=1e-9)
    others = [k for k in range(len(deal_result.countries)) if k != us]
    assert np.all(np.isnan(deal_result.country["price_level_pct"][0, others]))


def test_baseline_scenario_gives_no_price_change(korea_scenarios):
    sched = prepare_schedule(korea_scenarios["baseline_2024"])
    res = run_prices(sched.shocks(), [sched])
    summary = res.tables["prices_summary"].iloc[0]
    assert summary["price_level_pct"] == 0.0 and summary["cost_per_household_usd"] == 0.0
    assert (res.tables["households_by_decile"]["cost_usd"] == 0.0).all()


def test_levels_costs_and_tables_are_consistent(deal_result):
    s = deal_result.tables["prices_summary"].iloc[0]
    assert 0.0 < s["price_level_pct"] < s["etr_change_pp"]
    # cost per household = price level x PCE / households
    assert s["cost_per_household_usd"] == pytest.approx(s["price_level_pct"] / 100 * 19896.0e9 / 131.3e6, rel=1e-4)
    cats = deal_result.tables["prices_by_category"]
    assert len(cats) == 76 and list(cats["rank"]) == list(range(1, 77))
    assert cats["price_change_pct"].is_monotonic_decreasing
    # the level is the PCE-weighted mean of the category prices
    level = (cats["price_change_pct"] * cats["pce_usd_bn"]).sum() / cats["pce_usd_bn"].sum()
    assert level == pytest.approx(s["price_level_pct"], rel=1e-9)
    dec = deal_result.tables["households_by_decile"]
    assert len(dec) == 10
    assert dec["cost_usd"].mean() == pytest.approx(s["cost_per_household_usd"], rel=1e-9)
    ratio = dec["cost_share_of_income_pct"].iloc[0] / dec["cost_share_of_income_pct"].iloc[-1]
    assert s["burden_ratio_lowest_top"] == pytest.approx(ratio)
    com = deal_result.tables["prices_by_commodity"].set_index("commodity")
    assert com.loc["3361MV", "tariff_change_pp"] > com.loc["311FT", "tariff_change_pp"] > 0
    assert com.loc["HS", "tariff_change_pp"] == 0.0  # housing services carry no tariff
    json.dumps(deal_result.to_dict(), default=str)


def test_pass_through_and_domestic_pricing(deal, deal_result):
    sched, shocks = deal
    half = run_prices(shocks, [sched], pass_through=0.5)
    base = deal_result.tables["prices_summary"].iloc[0]["price_level_pct"]
    assert half.tables["prices_summary"].iloc[0]["price_level_pct"] == pytest.approx(base / 2, rel=1e-12)
    more = run_prices(shocks, [sched], domestic_pricing=0.5, margins="constant_percentage")
    assert more.tables["prices_summary"].iloc[0]["price_level_pct"] > base


def test_post_substitution_lowers_prices(deal):
    sched, shocks = deal
    res = run_prices(shocks, [sched], substitution="smart")
    s = res.tables["prices_summary"].iloc[0]
    assert s["etr_post"] < s["etr"]
    assert 0.0 < s["price_level_post_pct"] < s["price_level_pct"]
    assert "price_level_post_pct" in res.country


@pytest.mark.parametrize("kwargs, text", [
    ({"substitution": "magic"}, "substitution='magic'"),
    ({"substitution": "accounting"}, "substitution='accounting'"),
    ({"pass_through": 1.5}, "pass_through=1.5"),
    ({"margins": "none"}, "margins='none'"),
])
def test_bad_options(deal, kwargs, text):
    sched, shocks = deal
    with pytest.raises(DataError, match=text.replace("(", r"\(")):
        run_prices(shocks, [sched], **kwargs)


def test_needs_schedules(deal):
    with pytest.raises(DataError, match="needs the compiled schedules"):
        run_prices(deal[1])


def test_report_reads(deal_result):
    text = format_prices_report(deal_result)
    assert "PCE price level: +" in text and "Cost per household per year: USD" in text
    assert "New motor vehicles" in text
    block = text.split("largest price increase")[1]
    assert len([ln for ln in block.splitlines() if "%" in ln]) == 20


def test_figures(deal_result, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tariffsim.plot.prices import plot_burden_by_decile, plot_price_by_category

    ax = plot_price_by_category(deal_result, top=10)
    assert len(ax.patches) == 10 and "percent" in ax.get_xlabel()
    assert ax.get_yticklabels()[-1].get_text() == deal_result.tables["prices_by_category"]["category"].iloc[0]
    ax2 = plot_burden_by_decile(deal_result)
    assert len(ax2.patches) == 10
    ax2.figure.savefig(tmp_path / "burden.png")
    with pytest.raises(DataError, match="no table 'prices_by_category'"):
        plot_price_by_category(type("NotPrices", (), {"tables": {}})())
    with pytest.raises(DataError, match="scenario 'nope' is not in the result"):
        plot_burden_by_decile(deal_result, scenario="nope")
    plt.close("all")


def test_post_substitution_weights_only(deal):
    sched, shocks = deal
    both = run_prices(shocks, [sched], substitution="smart").tables["prices_summary"].iloc[0]
    only = run_prices(shocks, [sched], substitution="smart", substitution_shares=False).tables["prices_summary"].iloc[0]
    assert only["etr_post"] == pytest.approx(both["etr_post"])
    # imports of the tariffed goods fall: keeping 2024 import shares leaves prices higher
    assert both["price_level_post_pct"] < only["price_level_post_pct"] < only["price_level_pct"]


def test_cli_run_model_prices():
    """``tariffsim run FILE --model prices`` prints the prices report (entry registered at run time)."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    scenario = repo / "scenarios" / "korea_us_2025" / "deal_15pct.toml"
    run = _REGISTER + "import sys\nfrom tariffsim.cli import main\nraise SystemExit(main(sys.argv[1:]))\n"
    out = subprocess.run([sys.executable, "-c", run, "run", str(scenario), "--model", "prices"],
                         capture_output=True, text=True, cwd=repo, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "PCE price level: +" in out.stdout and "Decile  Income (USD)" in out.stdout
    bad = subprocess.run([sys.executable, "-c", run, "run", str(scenario), "--model", "prices",
                          "--method", "exact"], capture_output=True, text=True, cwd=repo, timeout=600)
    assert bad.returncode == 2 and "--method applies to --model" in bad.stderr


def test_simulate_prices_with_options(registered):
    from pathlib import Path

    from tariffsim.models.registry import check_options
    from tariffsim.simulate import simulate

    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "korea_us_2025" / "deal_15pct.toml"
    res = simulate(None, scenario, "prices", pass_through=0.5)
    assert res.model == "prices" and res.provenance["pass_through"] == 0.5
    assert res.tables["prices_summary"]["price_level_pct"].iloc[0] > 0
    with pytest.raises(DataError):
        check_options("prices", {"pass_through": 2})
    with pytest.raises(DataError):
        check_options("prices", {"substitution": "prices"})


def test_entry_defaults_match_run_prices():
    import inspect

    from tariffsim.models.prices_entry import PRICES_ENTRY

    params = inspect.signature(run_prices).parameters
    assert {o.name: o.default for o in PRICES_ENTRY.options} == {
        k: p.default for k, p in params.items() if p.kind is p.KEYWORD_ONLY}


def test_line_groups_add_up_to_the_schedule(deal):
    from tariffsim.datasets import load_us_product_lines
    from tariffsim.datasets.prices import load_prices_data
    from tariffsim.models.prices_lines import commodity_duties

    sched, _ = deal
    lines = load_us_product_lines()
    gd = commodity_duties(sched, load_prices_data().commodity_of(lines.hs10), lines=lines)
    acc = sched.line_accounting()
    pos = np.searchsorted(gd.partner, acc["partner"])
    np.testing.assert_allclose(gd.value.sum(0)[pos], acc["value"], rtol=1e-9)
    np.testing.assert_allclose(gd.duty_new[0].sum(0)[pos], np.atleast_2d(acc["duty_new"])[0], rtol=1e-9)
    np.testing.assert_allclose(gd.duty_base.sum(0)[pos], acc["duty_base"], rtol=1e-9)
