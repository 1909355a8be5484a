"""tariffsim.analysis.refunds: IEEPA refund exposure = statutory IEEPA duties x days / 365 at 2024 flows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tariffsim.errors import DataError


def _scenario():
    from tariffsim.scenario import scenario_from_dict

    return scenario_from_dict({
        "name": "refund_case",
        "measure": [
            {"id": "base", "kind": "base", "importer": "USA", "schedule": "hts_2024"},
            {"id": "recip", "kind": "reciprocal", "importer": "USA", "authority": "ieepa_reciprocal",
             "rates": {"KOR": 0.10}, "effective": "2025-01-01", "until": "2025-01-11"},
            {"id": "recip_up", "kind": "reciprocal", "importer": "USA", "authority": "ieepa_reciprocal",
             "rates": {"KOR": 0.20}, "effective": "2025-01-11", "until": "2025-02-01"},
            {"id": "autos", "kind": "item", "importer": "USA", "authority": "s232_autos", "products": ["8703"],
             "rate": 0.25, "effective": "2025-01-01"},
        ],
    })


def test_exposure_is_rate_times_value_times_days():
    from tariffsim.analysis.refunds import ieepa_refund_exposure
    from tariffsim.datasets import load_us_product_lines

    lines = load_us_product_lines()
    kor = lines.partner_mask({"KOR"})
    autos = lines.match(["8703"])
    v = lines.value[kor & ~autos].sum()  # 232 autos pay no reciprocal duty (mutual exclusion)
    out = ieepa_refund_exposure(_scenario(), end=dt.date(2025, 1, 31))
    got = out[(out.partner == "KOR") & (out.authority == "ieepa_reciprocal")]["duties_usd_bn"].item()
    # 10 days at 10% and 21 days at 20%, on annual 2024 values
    assert got == pytest.approx(v * (0.10 * 10 + 0.20 * 21) / 365 / 1e9, rel=1e-9)
    world = out[(out.partner == "WORLD") & (out.authority == "all_ieepa")]["duties_usd_bn"].item()
    assert world == pytest.approx(got, rel=1e-12)  # only Korea is charged; 232 is not IEEPA
    assert out.iloc[0]["partner"] == "WORLD" and out.attrs["window"] == (dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert np.all(out["duties_usd_bn"] >= 0)


def test_window_errors():
    from tariffsim.analysis.refunds import duty_days, ieepa_refund_exposure
    from tariffsim.scenario import scenario_from_dict

    with pytest.raises(DataError, match="before it starts"):
        duty_days(_scenario(), dt.date(2025, 2, 1), dt.date(2025, 1, 1))
    plain = scenario_from_dict({"name": "none", "measure": [
        {"id": "m", "kind": "item", "importer": "USA", "products": ["72"], "rate": 0.25, "effective": "2025-01-01"}]})
    with pytest.raises(DataError, match="no dated measure with an IEEPA authority"):
        ieepa_refund_exposure(plain)
