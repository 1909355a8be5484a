"""Large scenario sweeps: batched, chunked, resumable, on one machine or a Dask cluster.

A sweep is structured data (:class:`SweepSpec`, a TOML sweep file or a dict): a base
scenario, grids and samples over its compiled parameters (measure rates, partner rates,
``ID.enabled`` switches), elasticity sources and Monte Carlo draws, and the models to run.
:func:`run_sweep` evaluates it chunk by chunk - one batched array program per chunk and
model - and streams the rows to Parquet; :func:`read_sweep` reads them back;
:func:`quantile_bands` and :func:`sensitivity` summarise them.

Modules: ``spec`` (the format: strict, frozen pydantic models), ``spec_check`` (reading
files and dicts; errors as file → key path → value → fix), ``design`` (index -> parameter
values, on the fly), ``evaluate`` (one chunk), ``runner`` (prepare, run, resume),
``manifest`` (what is recorded; same-sweep check), ``store`` (the output folder: journal
with checksums, lock, reading back), ``backends`` (serial, processes, dask), ``summary``.
Plots: :mod:`tariffsim.plot.sweep`.
"""

from .design import Design, elasticity_draws
from .runner import BACKENDS, SweepRun, prepare_sweep, read_manifest, read_sweep, run_sweep
from .spec import (
    Choice,
    ElasticitySpec,
    SampleSpec,
    SweepSpec,
    Uniform,
    check_parameters,
    load_sweep,
    sweep_from_dict,
)
from .summary import quantile_bands, sensitivity

__all__ = [
    "SweepSpec",
    "SampleSpec",
    "ElasticitySpec",
    "Uniform",
    "Choice",
    "load_sweep",
    "sweep_from_dict",
    "check_parameters",
    "Design",
    "elasticity_draws",
    "run_sweep",
    "prepare_sweep",
    "read_sweep",
    "read_manifest",
    "SweepRun",
    "BACKENDS",
    "quantile_bands",
    "sensitivity",
]
