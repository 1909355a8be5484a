"""Compile memory grows linearly and slowly with the number of measures (issue 12: it was ~6 MB a
measure, so 3,000 measures needed 16 GB). Measured with tracemalloc, which sees numpy's buffers."""

from __future__ import annotations

import tracemalloc

import tariffsim as ts


def _scenario(n: int):
    measures = [{"id": "base", "kind": "base", "importer": "USA", "schedule": "hts_2024"}]
    measures += [{"id": f"m{k}", "kind": "item", "importer": "USA", "products": [f"{84 + k % 10}{k % 100:02d}"],
                  "rate": 0.1 + 0.001 * (k % 50)} for k in range(n)]
    return ts.scenario_from_dict({"name": f"n{n}", "measure": measures})


def _peak_mb(n: int, world, lines) -> float:
    scenario = _scenario(n)
    tracemalloc.start()
    try:
        ts.prepare_schedule(scenario, world, lines=lines).shocks()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_compile_memory_per_measure_is_small():
    world, lines = ts.load_world(), ts.datasets.load_us_product_lines()
    _peak_mb(5, world, lines)  # warm caches (line prefixes, partner maps)
    small, large = _peak_mb(40, world, lines), _peak_mb(240, world, lines)
    per_measure = (large - small) / 200
    assert per_measure < 1.0, f"{per_measure:.2f} MB a measure ({small:.0f} MB at 40, {large:.0f} MB at 240)"
    assert large < 400
