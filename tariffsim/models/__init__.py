"""Models: one adapter per model (Shocks + options in, Result out) and the model registry.

- :mod:`tariffsim.models.registry`: the one table of models (names, run functions, options,
  elasticity defaults). Add a model there.
- :mod:`tariffsim.models.accounting`, :mod:`~tariffsim.models.pe` (SMART, GSIM),
  :mod:`~tariffsim.models.ge` (Caliendo-Parro): the adapters over :mod:`tariffsim.kernels`.
- :mod:`tariffsim.models.parameters`: partial-equilibrium elasticities (``PEParameters``,
  ``pe_defaults``).
"""
