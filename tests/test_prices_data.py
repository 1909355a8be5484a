"""The embedded BEA data of the price model against BEA's published totals and the raw extracts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tariffsim.datasets.prices import load_prices_data
from tariffsim.models.prices import price_chain

REPO = Path(__file__).resolve().parents[1]
SHARED = next((p / "shared" / "data" for p in (REPO.parent, REPO.parent.parent)
               if (p / "shared" / "data" / "us_bea_io_pce").is_dir()), None)
needs_shared = pytest.mark.skipif(SHARED is None, reason="shared raw data folder ../shared/data not present")


def test_published_bea_totals_2024():
    data = load_prices_data()
    assert data.imports.sum() / 1e3 == pytest.approx(3795.9, abs=0.05)  # BEA: total imports 2024, USD bn
    assert data.pce_total / 1e3 == pytest.approx(19896.0, abs=0.05)     # BEA: PCE 2024, USD bn
    assert data.pce_commodity.sum() / 1e3 == pytest.approx(19896.0, abs=0.05)
    assert len(data.commodities) == 73 and data.tr.shape == (73, 73)
    assert len(data.pce_lines) == 76 and len(data.groups) == 16


def test_decile_shares_sum_to_one_and_incomes_rise():
    data = load_prices_data()
    np.testing.assert_allclose(data.group_decile_share.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(data.group_decile_share > 0)
    assert np.all(np.diff(data.decile_income) >= 0)
    assert set(data.line_group) == set(range(16))


def test_hs10_concordance_covers_the_lines():
    from tariffsim.datasets import load_us_product_lines

    lines = load_us_product_lines()
    data = load_prices_data()
    com = data.commodity_of(lines.hs10)
    unmapped = lines.value[com < 0].sum() / lines.value.sum()
    assert unmapped < 0.005
    codes = np.array(data.commodities)
    # spot checks: passenger cars (8703) -> motor vehicles; men's cotton trousers (6203.42.03) -> apparel
    assert codes[data.commodity_of(np.array([8703230190]))[0]] == "3361MV"
    assert codes[data.commodity_of(np.array([6203420300]))[0]] == "315AL"


def _raw(name: str) -> pd.DataFrame:
    return pd.read_csv(SHARED / "us_bea_io_pce" / name, dtype={"row_code": str, "col_code": str})


@needs_shared
def test_totals_from_the_raw_extracts():
    imp = _raw("bea_import_matrix_before_redef_summary_2024_long.csv")
    use = _raw("bea_use_summary_2024_long.csv")
    bridge = pd.read_csv(SHARED / "us_bea_io_pce" / "bea_pce_bridge_summary_2024.csv")
    assert -imp.loc[imp["col_code"] == "F050", "value"].sum() / 1e3 == pytest.approx(3795.9, abs=0.05)
    commodity_rows = ~use["row_code"].str.match(r"^(T0|V0|VA)")
    pce = use.loc[(use["col_code"] == "F010") & commodity_rows, "value"].sum()
    assert pce / 1e3 == pytest.approx(19896.0, abs=0.05)
    assert bridge["purchasers_value"].sum() / 1e3 == pytest.approx(19896.0, abs=0.05)
    data = load_prices_data()
    assert data.imports.sum() == pytest.approx(-imp.loc[imp["col_code"] == "F050", "value"].sum())


@needs_shared
def test_ten_percent_on_every_import_equals_import_content_of_pce():
    """10% on every import, full pass-through: price level = 10% x import content of PCE.

    Import content computed here from the raw extracts, by a power series of the domestic
    coefficients instead of a Leontief inverse.
    """
    use, imp, tr = (_raw(n) for n in ("bea_use_summary_2024_long.csv",
                                      "bea_import_matrix_before_redef_summary_2024_long.csv",
                                      "bea_total_requirements_cxc_summary_2024_long.csv"))
    codes = list(tr["col_code"].unique())

    def piv(frame, cols):
        wide = frame.pivot_table(index="row_code", columns="col_code", values="value", aggfunc="sum")
        return wide.reindex(index=codes, columns=cols).fillna(0.0).to_numpy()

    a = np.eye(len(codes)) - np.linalg.inv(piv(tr, codes))
    industries = [c for c in use["col_code"].unique() if c[0] not in "FT"]
    u_ind, m_ind = piv(use, industries), piv(imp, industries)
    finals = [c for c in use["col_code"].unique() if c.startswith("F") and c not in ("F040", "F050")]
    u_row = u_ind.sum(1) + piv(use, finals).sum(1)
    m_row = m_ind.sum(1) + piv(imp, finals).sum(1)
    row_share = np.divide(m_row, u_row, out=np.zeros_like(m_row), where=u_row > 0)
    share = np.tile(row_share[:, None], (1, len(codes)))
    for j, c in enumerate(codes):
        if c in industries:
            k = industries.index(c)
            ok = u_ind[:, k] > 0
            share[ok, j] = m_ind[ok, k] / u_ind[ok, k]
    share = np.clip(share, 0, 1)
    a_m = share * np.where(np.abs(a) < 1e-12, 0.0, a)
    a_d = np.where(np.abs(a) < 1e-12, 0.0, a) - a_m
    # content_j = 1' A_M (I + A_D + A_D^2 + ...) : imported inputs per USD of domestic output j
    term, content = a_m.sum(0), np.zeros(len(codes))
    for _ in range(200):
        content += term
        term = term @ a_d
    u_pce, m_pce = piv(use, ["F010"])[:, 0], piv(imp, ["F010"])[:, 0]
    w_m = np.clip(np.divide(m_pce, u_pce, out=np.zeros_like(m_pce), where=u_pce > 0), 0, 1)
    per_usd = w_m + (1 - w_m) * content  # import content per USD of each commodity in PCE
    bridge = pd.read_csv(SHARED / "us_bea_io_pce" / "bea_pce_bridge_summary_2024.csv", dtype={"commodity_code": str})
    bridge = bridge[bridge["commodity_code"].isin(codes)]
    idx = bridge["commodity_code"].map({c: k for k, c in enumerate(codes)}).to_numpy()
    import_content = (bridge["producers_value"].to_numpy() * per_usd[idx]).sum() / bridge["purchasers_value"].sum()
    data = load_prices_data()
    out = price_chain(np.full((1, len(data.commodities)), 0.10), data)
    assert out["level"][0] == pytest.approx(0.10 * import_content, rel=1e-8)
    assert 0.04 < import_content < 0.10  # order of magnitude of published estimates (about 6-10% of PCE)


@needs_shared
def test_decile_incomes_keep_cbo_group_means():
    """Deciles 1-8 are split within quintiles: each pair keeps CBO's quintile mean (one uprating factor)."""
    folder = SHARED / "us_distribution" / "cbo_household_income_2021"
    t3 = pd.read_csv(next(folder.glob("*table_03*")))
    t3 = t3[(t3["household_type"] == "all_households") & (t3["year"] == 2021)].set_index("income_group")
    inc = t3["inc_after_transfers_taxes"]
    data = load_prices_data()
    pairs = data.decile_income[:8].reshape(4, 2).mean(axis=1)
    groups = ["lowest_quintile", "second_quintile", "middle_quintile", "fourth_quintile"]
    factor = np.append(pairs / inc[groups].to_numpy(), data.decile_income[8] / inc["percentiles_81_90"])
    np.testing.assert_allclose(factor, factor[0], rtol=1e-12)
    assert 1.15 < factor[0] < 1.30  # nominal PCE growth 2021-2024
    assert data.decile_income[0] < inc["lowest_quintile"] * factor[0] < data.decile_income[1]
