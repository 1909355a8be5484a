"""Helpers shared by the sweep tests (no tests here): a toy scenario that compiles in milliseconds."""

from __future__ import annotations

TOY_SCENARIO = """
name = "toy"
description = "Sector-level measures only (no US lines): compiles in milliseconds."

[[measure]]
id = "kor_ret"
kind = "retaliation"
importer = "KOR"
partners = ["USA"]
sectors = ["C29", "C24A", "C10T12"]
rate = 0.10

[[measure]]
id = "eu_recip"
kind = "reciprocal"
importer = "EU27"
rates = { USA = 0.10, CHN = 0.20 }

[[measure]]
id = "can_recip"
kind = "reciprocal"
importer = "CAN"
rates = { USA = 0.25 }
"""


def write_toy(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(TOY_SCENARIO, encoding="utf-8")
    return path


def toy_spec(tmp_path, **changes):
    """A small sweep dict on the toy scenario: grid x LHS sample x elasticity draws."""
    spec = {
        "name": "toy_sweep",
        "scenario": str(write_toy(tmp_path)),
        "models": ["accounting", "smart", "ge"],
        "grid": {"kor_ret.rate": [0.0, 0.1, 0.3], "eu_recip.enabled": [0, 1]},
        "sample": {"method": "lhs", "n": 4, "parameters": {"can_recip.rates.USA": {"low": 0.0, "high": 0.5}}},
        "elasticities": {"sources": ["cp2015", "ll2023"], "draws": 2, "lower": 0.5},
        "seed": 3,
        "chunk_size": 10,
        "options": {"smart": {"method": "exact"}},
    }
    spec.update(changes)
    if "smart" not in spec["models"]:
        spec["options"] = {k: v for k, v in spec["options"].items() if k != "smart"}
    return spec
