"""tariffsim.plot: figures from results and frames (Agg backend), lazy import."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _result(model="ge"):
    from tariffsim.results import Result

    countries, sectors = ("USA", "KOR", "ROW"), ("C29", "C26", "SERV")
    rng = np.random.default_rng(0)
    base = rng.uniform(1, 10, (1, 3, 3, 3))
    flows = np.concatenate([base, base * 0.9])
    country = {"welfare_pct": rng.normal(size=(2, 3))} if model == "ge" else {"welfare_change": rng.normal(size=(2, 3))}
    return Result(model, ("a", "b"), countries, sectors, country,
                  {"flow_base": np.concatenate([base, base]), "flow_new": flows})


def test_import_tariffsim_does_not_import_matplotlib():
    code = ("import sys, tariffsim, tariffsim.plot, tariffsim.analysis.timeline, tariffsim.analysis.compare; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plot_etr_timeline():
    from matplotlib.axes import Axes

    from tariffsim.plot import plot_etr_timeline

    frame = pd.DataFrame(
        {
            "date": [dt.date(2025, 3, 11)] * 2 + [dt.date(2025, 4, 9)] * 2,
            "partner": ["WORLD", "KOR"] * 2,
            "etr": [0.01, 0.0, 0.24, 0.22],
        }
    )
    ax = plot_etr_timeline(frame)
    assert isinstance(ax, Axes) and "%" in ax.get_ylabel() and ax.get_title()
    assert len(ax.get_legend().get_texts()) == 2


def test_plot_exports_welfare_on_given_axes():
    import matplotlib.pyplot as plt

    from tariffsim.plot import plot_exports_by_sector, plot_welfare

    fig, (a1, a2) = plt.subplots(1, 2)
    assert plot_exports_by_sector(_result(), "KOR", "USA", ax=a1) is a1
    assert "USD bn" in a1.get_xlabel()
    assert plot_welfare(_result(), ax=a2) is a2
    assert "%" in a2.get_ylabel()
    assert "USD bn" in plot_welfare(_result("smart")).get_ylabel()


def test_plot_model_comparison_and_errors():
    from tariffsim.errors import DataError
    from tariffsim.plot import plot_model_comparison, plot_welfare

    frame = pd.DataFrame(
        {
            "scenario": ["s1", "s1", "s2", "s2"],
            "model": ["smart", "ge"] * 2,
            "kor_exports_to_usa_pct": [-5.0, 2.0, -8.0, np.nan],
        }
    )
    ax = plot_model_comparison(frame)
    assert ax.get_title() and "%" in ax.get_ylabel()
    with pytest.raises(DataError, match="not in the comparison table"):
        plot_model_comparison(frame, column="nope")
    from tariffsim.results import Result

    acc = Result("accounting", ("a",), ("USA",), ("C29",), {"etr": np.zeros((1, 1))})
    with pytest.raises(DataError, match="no welfare"):
        plot_welfare(acc)
