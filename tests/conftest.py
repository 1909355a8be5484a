"""Shared fixtures: the shipped Korea scenarios, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KOREA = REPO / "scenarios" / "korea_us_2025"


@pytest.fixture(scope="session")
def korea_scenarios():
    from tariffsim.scenario import load_scenario

    names = ("baseline_2024", "liberation_day", "pause_10pct", "deal_15pct")
    return {n: load_scenario(KOREA / f"{n}.toml") for n in names}
