"""Golden test: Caliendo & Parro (2015) NAFTA tariff reductions, published numbers."""

from __future__ import annotations

import numpy as np
import pytest

from tariffsim.datasets.readers import read_caliendo_parro
from tariffsim.models.ge import run_ge
from test_ge_helpers import CP_DIR, NAFTA, nafta_shocks, needs_cp

pytestmark = [needs_cp]

# CP (2015) Table 2 / Section 5: welfare (ToT + VoT), ToT, VoT, real wage (%);
# growth of imports from NAFTA partners (%)
PUBLISHED = {
    "MEX": dict(welfare=1.31, tot=-0.41, vot=1.72, real_wage=1.72, imports=118),
    "CAN": dict(welfare=-0.06, tot=-0.11, vot=0.04, real_wage=0.32, imports=11),
    "USA": dict(welfare=0.08, tot=0.04, vot=0.04, real_wage=0.11, imports=41),
}


@pytest.fixture(scope="module")
def cp_result():
    data = read_caliendo_parro(CP_DIR)
    world = data.world
    shocks = nafta_shocks(data)
    return world, run_ge(shocks, data.theta, deficits="purge")


def test_reader_layout():
    data = read_caliendo_parro(CP_DIR)
    w = data.world
    usa, can, jpn = w.country_index("USA"), w.country_index("CAN"), w.country_index("JPN")
    auto = w.sector_index("Auto")
    # SOURCE.txt check: US auto imports from Canada 35.2 bn, from Japan 33.6 bn (USD mn here)
    assert w.flows[can, usa, auto] == pytest.approx(35_200, rel=0.01)
    assert w.flows[jpn, usa, auto] == pytest.approx(33_600, rel=0.01)
    assert data.theta.shape == (40,) and np.all(data.theta[20:] == 8.22)
    total = w.io_coefficients.sum(axis=1) + w.value_added_share
    assert np.all(total <= 1 + 1e-5)
    assert data.tariffs_1993.shape == (31, 31, 40) and np.all(data.tariffs_1993[:, :, 20:] == 0)


@pytest.mark.parametrize("country", NAFTA)
def test_published_numbers(cp_result, country):
    world, res = cp_result
    assert res.solver.all_converged
    k = world.country_index(country)
    pub = PUBLISHED[country]
    col = res.country
    # to the printed precision: two decimals
    assert round(col["welfare_first_order_pct"][0, k], 2) == pytest.approx(pub["welfare"], abs=1e-9)
    assert round(col["welfare_tot_pct"][0, k], 2) == pytest.approx(pub["tot"], abs=1e-9)
    assert round(col["welfare_vot_pct"][0, k], 2) == pytest.approx(pub["vot"], abs=1e-9)
    assert round(col["real_wage_pct"][0, k], 2) == pytest.approx(pub["real_wage"], abs=1e-9)
    partners = [world.country_index(c) for c in NAFTA if c != country]
    base, new = res.flow["flow_base"][0], res.flow["flow_new"][0]
    growth = 100 * (new[partners, k, :].sum() / base[partners, k, :].sum() - 1)
    assert round(growth) == pub["imports"]


def test_purged_baseline_has_no_deficits(cp_result):
    _, res = cp_result
    base = res.flow["flow_base"][0]
    deficit = base.sum(axis=(0, 2)) - base.sum(axis=(1, 2))
    assert np.max(np.abs(deficit)) < 1e-8 * base.sum()
