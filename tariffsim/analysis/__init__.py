"""Analysis on results: tables and timelines built from scenarios and model results.

- :mod:`tariffsim.analysis.timeline`: statutory ETR and duties on US imports on each date of
  a scenario's timeline (:func:`~tariffsim.analysis.timeline.timeline`).
- :mod:`tariffsim.analysis.compare`: key outputs of scenario files under several models, one
  row per (scenario, model), focus countries as parameters
  (:func:`~tariffsim.analysis.compare.compare`).
- :mod:`tariffsim.analysis.refunds`: IEEPA refund exposure, statutory duties under the voided
  IEEPA authorities at 2024 flows (an estimate, not collections).
- :mod:`tariffsim.analysis.report`: plain-text tables and CSV files from a Result (the CLI's
  output).

Import from the submodules (``from tariffsim.analysis.timeline import timeline``). Nothing
in the library below this package imports it; the CLI and the plots do.
"""
