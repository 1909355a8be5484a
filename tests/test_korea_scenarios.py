"""Shipped scenario files (korea_us_2025, korea_us_2026, world_2025, us_law): validate, run under
every declared model, and each non-tariff measure kind does something in the models that use it
and warns in the models that ignore it."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
FILES = [f for d in ("korea_us_2025", "korea_us_2026", "world_2025", "us_law")
         for f in sorted((REPO / "scenarios" / d).glob("*.toml"))]


@pytest.fixture(scope="module")
def world():
    from tariffsim.datasets import load_world

    return load_world()


def _cases():
    from tariffsim.scenario import load_scenario

    for f in FILES:
        for model in load_scenario(f).models:
            yield pytest.param(f, model, id=f"{f.parent.name}/{f.stem}-{model}")


def test_every_file_is_found():
    names = {f.stem for f in FILES}
    assert {"timeline_2025", "july_a_full_exemption", "july_b_partial", "july_c_no_deal", "july_d_deal_signed",
            "korea_retaliation_hypothetical", "april_2025_reciprocal", "august_2025_rates", "china_retaliation",
            "us_tariffs_2025_2026", "korea_2026_12_01", "korea_floor_15_s301", "korea_s122_renewed",
            "korea_semis_pharma_default"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_file_validates_and_says_where_facts_come_from(path):
    from tariffsim.scenario import load_scenario

    s = load_scenario(path)
    assert s.models, "every shipped file declares its models"
    text = path.read_text(encoding="utf-8")
    assert "Source" in text or "source" in text
    for m in s.measures:
        if m.kind != "base" and path.stem != "baseline_2024":
            assert m.source or m.description, f"{path.name}: measure {m.id} has no source"


_COMPILED: dict = {}


def _shocks(path, world):
    """Each file compiled once (the law file has ~100 measures on 335,000 lines), shared by the models."""
    from tariffsim.scenario import load_scenario
    from tariffsim.schedule import prepare_schedule

    if path not in _COMPILED:
        sched = prepare_schedule(load_scenario(path), world)
        _COMPILED[path] = sched.shocks(sched.vector()[None, :], scenarios=[path.stem])
    return _COMPILED[path]


@pytest.mark.parametrize(("path", "model"), list(_cases()))
def test_file_runs_under_each_declared_model(path, model, world):
    from tariffsim.simulate import simulate

    with warnings.catch_warnings(record=True):  # PE/GE warnings about ignored shocks are tested below
        warnings.simplefilter("always")
        result = simulate(world, _shocks(path, world), model)
    assert result.scenarios and np.all(np.isfinite(result.country["etr"]))
    if result.solver is not None:
        assert result.solver.all_converged


def test_hypothetical_and_out_of_scope_items_are_labelled():
    korea = REPO / "scenarios" / "korea_us_2025"
    assert "HYPOTHETICAL" in (korea / "korea_retaliation_hypothetical.toml").read_text()
    assert "did not retaliate" in (korea / "korea_retaliation_hypothetical.toml").read_text().lower()
    for name in ("july_a_full_exemption", "july_d_deal_signed"):
        text = (korea / f"{name}.toml").read_text().lower()
        assert "defence" in text and "korus" in text  # out of the talks, and said so
    deal = (korea / "july_d_deal_signed.toml").read_text()
    assert deal.count("ASSUMPTION") >= 5 and "verify" in deal


def test_variants_set_korea_rates_as_described():
    from tariffsim.analysis.timeline import timeline

    korea = REPO / "scenarios" / "korea_us_2025"
    etr = {
        name: timeline(korea / f"{name}.toml", ["2025-08-07"]).query("partner == 'KOR'")["etr"].iloc[0]
        for name in ("timeline_2025", "july_a_full_exemption", "july_b_partial", "july_c_no_deal")
    }
    # Korea exempt from everything: only the KORUS/MFN base rates remain (nearly zero)
    assert etr["july_a_full_exemption"] < 0.001
    assert etr["july_b_partial"] < etr["timeline_2025"] < etr["july_c_no_deal"]


def test_korea_2026_variants_move_korea_as_described():
    from tariffsim.analysis.timeline import timeline

    folder = REPO / "scenarios" / "korea_us_2026"
    names = ("korea_2026_12_01", "korea_floor_15_s301", "korea_s122_renewed", "korea_semis_pharma_default")
    frames = {name: timeline(folder / f"{name}.toml", ["2026-12-01"], partners=["KOR"]) for name in names}
    etr = {k: f.query("partner == 'KOR'")["etr"].iloc[0] for k, f in frames.items()}
    today = etr["korea_2026_12_01"]
    # a 15% all-in floor replacing the 12.5% all-in cap on the same lines raises the rate by at most 2.5 pp
    assert today < etr["korea_floor_15_s301"] <= today + 0.025
    # Section 122 (10%) on top of everything not exempt and not under Section 232: up to 10 pp more
    assert today < etr["korea_s122_renewed"] <= today + 0.10
    assert etr["korea_semis_pharma_default"] > today
    # the other partners are untouched by the Korea variants
    def others(f):
        duties = f.set_index("partner")["duties_usd_bn"]
        return duties["WORLD"] - duties["KOR"]

    world = {k: others(f) for k, f in frames.items() if k != "korea_s122_renewed"}
    assert max(world.values()) - min(world.values()) < 1e-9


# ----------------------------------------------------------- non-tariff kinds x models
KINDS = {  # measure id in july_d -> parameter
    "ntb": "kor_digital_ntb.rate",
    "productivity": "usa_shipbuilding.change",
    "deficit": "kor_investment_pledge.amount",
    "purchase": "kor_energy_purchase.amount",
    "currency": "krw_appreciation.appreciation",
}
#: which model uses which non-tariff kind (the README table documents the same)
USES = {
    "smart": {"purchase", "currency"},
    "gsim": {"purchase", "currency"},
    "ge": {"ntb", "productivity", "deficit", "purchase"},
}


@pytest.fixture(scope="module")
def kind_batch(world):
    """july_d compiled once; row 0 as written, row k+1 with kind k switched off."""
    from tariffsim.scenario import load_scenario
    from tariffsim.schedule import prepare_schedule

    sched = prepare_schedule(load_scenario(REPO / "scenarios" / "korea_us_2025" / "july_d_deal_signed.toml"), world)
    rows = [sched.vector()] + [sched.vector({p: 0.0}) for p in KINDS.values()]
    return sched.shocks(np.stack(rows), scenarios=["all", *(f"no_{k}" for k in KINDS)])


@pytest.mark.parametrize("model", ["smart", "gsim", "ge"])
def test_non_tariff_kinds_act_or_warn(model, kind_batch, world):
    from tariffsim.simulate import simulate

    with pytest.warns(UserWarning) as record:
        result = simulate(world, kind_batch, model)
    messages = " ".join(str(w.message) for w in record)
    flows = result.flow["flow_new"]
    welfare = result.country.get("welfare_pct", result.country.get("welfare_change"))
    for k, kind in enumerate(KINDS, start=1):
        changed = not (np.allclose(flows[k], flows[0], rtol=1e-9, atol=1e-9) and np.allclose(welfare[k], welfare[0]))
        if kind in USES[model]:
            assert changed, f"{model} should respond to the {kind} measure"
        else:
            assert not changed, f"{model} should ignore the {kind} measure"
            word = {"deficit": "deficit", "purchase": "purchase"}.get(kind, kind)
            assert word in messages, f"{model} ignores {kind} without a warning: {messages}"


def test_retaliation_raises_korea_tariff_on_us(world):
    from tariffsim.simulate import simulate

    korea = REPO / "scenarios" / "korea_us_2025"
    res = simulate(
        world, [str(korea / "july_c_no_deal.toml"), str(korea / "korea_retaliation_hypothetical.toml")], "accounting"
    )
    k, u = res.countries.index("KOR"), res.countries.index("USA")
    t = res.flow["tariff_new"]
    assert np.all(t[0, u, k] == 0)
    sec = list(res.sectors)
    assert t[1, u, k, sec.index("A01")] == pytest.approx(0.25 * 0.5)
    assert t[1, u, k, sec.index("C29")] == pytest.approx(0.25 * 0.25)
    assert t[1, u, k, sec.index("B06")] == 0.0


def test_china_retaliation_path(world):
    import datetime as dt

    from tariffsim.scenario import load_scenario
    from tariffsim.schedule import prepare_schedule

    s = load_scenario(REPO / "scenarios" / "world_2025" / "china_retaliation.toml")
    c, u = world.countries.index("CHN"), world.countries.index("USA")
    a01 = world.sectors.index("A01")
    got = {
        d: prepare_schedule(s, world, date=dt.date.fromisoformat(d)).evaluate()[0, u, c, a01]
        for d in ("2025-04-09", "2025-04-10", "2025-04-12", "2025-05-14")
    }
    assert got == pytest.approx({"2025-04-09": 0.0, "2025-04-10": 0.84, "2025-04-12": 1.25, "2025-05-14": 0.10})
