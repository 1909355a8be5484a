"""Figures: one home for every plot (matplotlib is imported when a function draws).

Every function is ``f(data, ..., ax=None) -> Axes``: it draws on the given Axes (or a new
figure) and never calls ``show`` or saves files. Shared axes helpers (new axes, labels with
units, sector names instead of bare ICIO codes) are in :mod:`tariffsim.plot.axes`.

- :mod:`tariffsim.plot.results`: model results, timelines, comparison tables.
- :mod:`tariffsim.plot.timeline`: the daily ETR by legal authority (stacked, events labelled).
- :mod:`tariffsim.plot.sweep`: sweep summaries (uncertainty bands, tornado charts).
- :mod:`tariffsim.plot.prices`: consumer prices by PCE category and the burden by income decile.
"""

from .prices import plot_burden_by_decile, plot_price_by_category
from .results import plot_etr_timeline, plot_exports_by_sector, plot_model_comparison, plot_welfare
from .sweep import plot_bands, plot_sensitivity
from .timeline import plot_authority_timeline

__all__ = ["plot_etr_timeline", "plot_exports_by_sector", "plot_welfare", "plot_model_comparison",
           "plot_bands", "plot_sensitivity", "plot_authority_timeline", "plot_price_by_category",
           "plot_burden_by_decile"]
