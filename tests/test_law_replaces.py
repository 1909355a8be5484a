"""`replaces`: a retroactive replacement ends the measures it replaces, as applied and as published.

Hand-built measures (truth table worked out by hand), the error messages, and Japan in August
2025 against the raw files: as published on 2025-08-20 Japan paid the pre-deal +15% (heading
9903.02.30), as applied the 15% all-in floor (EO 14345, retroactive to 2025-08-07).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tariffsim.errors import ScenarioError
from tariffsim.scenario import scenario_from_dict
from tariffsim.scenario.law import end_of, in_force_on
from tariffsim.schedule import prepare_schedule
from tariffsim.schedule.context import in_force_on as schedule_in_force_on
from test_compiler import WORLD, lines, rate
from test_law_independent import LAW, SHARED, TRACK, _annex_ii, _codes, on, raw  # noqa: F401 (raw: fixture)

D = dt.date


def _scenario(old_until=None, published="2025-09-04", replaces=("old",), **extra):
    old = {"id": "old", "kind": "reciprocal", "importer": "USA", "rates": {"JPN": 0.15},
           "effective": "2025-08-07", "authority": "ieepa_reciprocal"}
    if old_until:
        old["until"] = old_until
    new = {"id": "new", "kind": "floor", "importer": "USA", "partners": ["JPN"], "rate": 0.15,
           "effective": "2025-08-07", "until": "2026-02-24", "replaces": list(replaces), **extra}
    if published:
        new["published"] = published
    data = {"name": "replaces", "measure": [
        {"id": "us_base", "kind": "base", "importer": "USA", "schedule": "hts_2024"}, old, new]}
    return scenario_from_dict(data)


# (date, as_published) -> (old in force, new in force), worked out by hand:
# as applied the floor runs from 08-07 and the +15% never applies; as published the +15% runs
# 08-07 .. 09-03 and the floor from 09-04; both end by 2026-02-24 (the floor's until).
TRUTH = {
    ("2025-08-06", False): (False, False), ("2025-08-06", True): (False, False),
    ("2025-08-07", False): (False, True), ("2025-08-07", True): (True, False),
    ("2025-08-20", False): (False, True), ("2025-08-20", True): (True, False),
    ("2025-09-03", False): (False, True), ("2025-09-03", True): (True, False),
    ("2025-09-04", False): (False, True), ("2025-09-04", True): (False, True),
    ("2026-02-24", False): (False, False), ("2026-02-24", True): (False, False),
}


@pytest.mark.parametrize("key", list(TRUTH))
def test_truth_table_scenario_and_schedule_rules(key):
    day, published = D.fromisoformat(key[0]), key[1]
    scen = _scenario()
    old, new = scen.measure("old"), scen.measure("new")
    want = TRUTH[key]
    assert (in_force_on(old, day, published), in_force_on(new, day, published)) == want
    assert (schedule_in_force_on(old, day, published), schedule_in_force_on(new, day, published)) == want
    ids = {m.id for m in scen.in_force(day, as_published=published)}
    assert ({"old", "new"} & ids) == {i for i, on in zip(("old", "new"), want) if on}


def test_no_gap_as_published_and_no_double_duty_as_applied():
    """On every day from 08-07 exactly one of the two applies, in both views."""
    scen = _scenario()
    old, new = scen.measure("old"), scen.measure("new")
    for published in (False, True):
        for k in range(0, 200):
            day = D(2025, 8, 7) + dt.timedelta(days=k)
            assert in_force_on(old, day, published) + in_force_on(new, day, published) == 1, (day, published)


def test_not_retroactive_replacement_ends_on_effective_in_both_views():
    scen = _scenario(published=None)
    old = scen.measure("old")
    assert end_of(old, False) == end_of(old, True) == D(2025, 8, 7)


def test_rates_on_a_line_as_applied_and_as_published():
    """A Japanese line with MFN 2.5%: the floor adds 12.5 pp, the pre-deal duty 15 pp."""
    scen = _scenario()
    ln = lines(("8703230100", "JPN", "C29", 100, 0.025))
    for day, pub, want in ((D(2025, 8, 20), False, 0.125), (D(2025, 8, 20), True, 0.15),
                           (D(2025, 9, 10), True, 0.125)):
        s = prepare_schedule(scen, WORLD, lines=ln, date=day, as_published=pub)
        assert rate(s, "JPN", "C29") - 0.025 == pytest.approx(want), (day, pub)
    every = prepare_schedule(scen, WORLD, lines=ln, all_dates=True)
    theta = every.dated_vector(D(2025, 8, 20), as_published=True)
    assert rate(every, "JPN", "C29", theta) - 0.025 == pytest.approx(0.15)
    assert rate(every, "JPN", "C29", every.dated_vector(D(2025, 8, 20))) - 0.025 == pytest.approx(0.125)


def test_disabled_replaced_measure_drops_the_reference(tmp_path):
    (tmp_path / "law.toml").write_text(
        'name = "law"\n[[measure]]\nid = "old"\nkind = "reciprocal"\nimporter = "USA"\nrates = { JPN = 0.15 }\n'
        'effective = 2025-08-07\n[[measure]]\nid = "new"\nkind = "floor"\nimporter = "USA"\npartners = ["JPN"]\n'
        'rate = 0.15\neffective = 2025-08-07\npublished = 2025-09-04\nreplaces = ["old"]\n')
    (tmp_path / "child.toml").write_text('name = "child"\nextends = "law.toml"\ndisable = ["old"]\n')
    from tariffsim.scenario import load_scenario

    assert load_scenario(tmp_path / "child.toml").measure("new").replaces == ()


# ------------------------------------------------------------------------ errors
def test_unknown_id_names_file_key_value_and_suggestion(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\n[[measure]]\nid = "jpn_recip_aug"\nkind = "reciprocal"\nimporter = "USA"\n'
        'rates = { JPN = 0.15 }\neffective = 2025-08-07\n[[measure]]\nid = "jpn_floor"\nkind = "floor"\n'
        'importer = "USA"\npartners = ["JPN"]\nrate = 0.15\neffective = 2025-08-07\nreplaces = ["jpn_recip_agu"]\n')
    from tariffsim.scenario import load_scenario

    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert "bad.toml" in text and "measure[1].replaces[0] = 'jpn_recip_agu'" in text
    assert "names no measure" in text and "jpn_recip_aug" in text  # did you mean


@pytest.mark.parametrize("kwargs,needle", [
    ({"replaces": ("new",)}, "is this measure itself"),
    ({"old_until": "2025-08-20"}, "ends on its own (until = 2025-08-20) before this measure is published (2025-09-04)"),
])
def test_bad_replacements_are_reported(kwargs, needle):
    with pytest.raises(ScenarioError) as err:
        _scenario(**kwargs)
    assert needle in str(err.value)


def test_replacement_needs_an_effective_date():
    data = {"name": "x", "measure": [
        {"id": "old", "kind": "reciprocal", "importer": "USA", "rates": {"JPN": 0.15}},
        {"id": "new", "kind": "floor", "importer": "USA", "partners": ["JPN"], "rate": 0.15, "replaces": ["old"]}]}
    with pytest.raises(ScenarioError, match=r"replaces = \['old'\].*needs an `effective` date"):
        scenario_from_dict(data)


def test_until_at_or_after_the_published_date_is_fine():
    scen = _scenario(old_until="2025-09-04")
    assert end_of(scen.measure("old"), True) == D(2025, 9, 4)
    assert end_of(scen.measure("old"), False) == D(2025, 8, 7)


# ------------------------------------------------------------- Japan, raw files
def _japan_recip(lines_2024) -> tuple[np.ndarray, ...]:
    """(value, share of each line outside Section 232, base rate, reciprocal-eligible flag): Japan, 2025-08-20."""
    jp = lines_2024[lines_2024["iso"] == "JPN"].reset_index(drop=True)
    metal = pd.read_csv(TRACK / "s232_metal_chapter_products.csv", dtype=str)
    full = on(jp, _codes(metal, "hts_prefix"))
    note33 = pd.read_csv(SHARED / "us_tariff_law_2025" / "s232_autos_parts_hts_note33.csv", dtype=str)
    autos = on(jp, tuple(note33.loc[note33["list"].str.startswith("note33(b)"), "hts_nodot"]))
    parts = on(jp, tuple(c for c in note33.loc[note33["list"].str.startswith("note33(g)"), "hts_nodot"]
                         if c != "8471"))
    der = pd.read_csv(TRACK / "s232_derivative_products.csv", dtype=str).fillna("")
    alu = on(jp, _codes(der[der.derivative_type == "aluminum"], "hts_prefix"))  # early and 2025-08-18 lists
    steel = on(jp, _codes(der[der.derivative_type == "steel"], "hts_prefix"))
    copper = on(jp, _codes(pd.read_csv(TRACK / "s232_copper_products.csv", dtype=str), "hts10"))
    # metal content charged under 232 (kinds side by side); the rest pays the reciprocal duty
    content = np.minimum(alu * jp["aluminum"].to_numpy() + steel * jp["steel"].to_numpy()
                         + copper * jp["copper"].to_numpy(), 1.0)
    outside = np.where(full | autos | parts, 0.0, 1.0 - content)
    annex, elec = _annex_ii(jp)
    # base: the US-Japan Trade Agreement rate where the 2024 HTS has one, else MFN (ad valorem parts)
    hts = pd.read_csv(SHARED / "us_tariff_schedule_2024" / "us_hts8_mfn_fta_2024basic.csv.gz", dtype=str)
    row = hts.set_index("hts8").reindex(jp["hs10"].str[:8])
    mfn = pd.to_numeric(row["mfn_adval"], errors="coerce").fillna(0).to_numpy()
    japan = pd.to_numeric(row["japan_adval"], errors="coerce").to_numpy()
    base = np.where(np.isnan(japan), mfn, japan)
    return jp["imports_usd"].to_numpy(), outside, base, ~(annex | elec)


@pytest.mark.slow
@pytest.mark.skipif(not TRACK.is_dir() or not (SHARED / "us_imports_2024").is_dir(),
                    reason="raw data folder is absent (the Census and tracker files)")
def test_japan_2025_08_20_as_published_pays_the_pre_deal_rate(raw):  # noqa: F811 (fixture)
    from tariffsim.analysis.timeline import timeline_by_authority

    v, outside, base, eligible = _japan_recip(raw)
    pre_deal = float(np.sum(v * outside * eligible * 0.15) / v.sum())  # +15% on top of MFN
    floor = float(np.sum(v * outside * eligible * np.maximum(0.15 - base, 0.0)) / v.sum())  # 15% all-in
    assert pre_deal > 0.05 and floor < pre_deal

    def recip(published):
        split = timeline_by_authority(LAW, ["2025-08-20"], partners=["JPN"], as_published=published)
        row = split[(split["partner"] == "JPN") & (split["authority"] == "ieepa_reciprocal")]
        return float(row["etr"].iloc[0])

    assert recip(True) == pytest.approx(pre_deal, abs=1e-6)
    assert recip(False) == pytest.approx(floor, abs=1e-6)
