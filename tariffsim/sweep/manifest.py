"""What a sweep's manifest records, and the check that a resumed sweep is the same sweep.

Belongs here: :func:`scenario_hash` (the compiled base scenario, measures included),
:func:`new_manifest` (the manifest of a new sweep) and :func:`check_same_sweep` (refuse to
resume into a folder written from another spec, base scenario, world or chunk size).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError

__all__ = ["FORMAT", "scenario_hash", "new_manifest", "check_same_sweep"]

FORMAT = "tariffsim-sweep/2"


def scenario_hash(schedule) -> str:
    """SHA-256 of the compiled base scenario: its measures (all fields but description and
    source), settings, parameter names and defaults, and the shocks it compiles to at the
    defaults. Any edit of the base scenario file (or a file it extends) that can change a
    row changes it."""
    from ..shocks import SHOCK_FIELDS

    scen = schedule.scenario

    def dump(obj):
        if hasattr(obj, "model_dump"):
            return obj.model_dump(mode="json", exclude={"description", "source"})
        return repr(obj)

    doc = {"measures": [dump(m) for m in scen.measures], "effective": str(scen.effective),
           "stacking": scen.stacking, "world": dump(scen.world), "parameters": dump(scen.parameters)}
    h = hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode())
    h.update("\n".join(schedule.parameter_names).encode())
    h.update(np.ascontiguousarray(schedule.defaults).tobytes())
    shocks = schedule.shocks(schedule.defaults[None])
    for name in SHOCK_FIELDS:
        h.update(np.ascontiguousarray(getattr(shocks, name)).tobytes())
    return h.hexdigest()


def new_manifest(job) -> dict[str, Any]:
    from .. import __version__

    spec, sched = job.spec, job.schedule
    return {
        "format": FORMAT,
        "tariffsim_version": __version__,
        "name": spec.name,
        "spec_hash": job.spec_hash,
        "scenario_hash": job.scenario_hash,
        "spec": spec.to_dict(),
        "scenario": sched.scenario.name,
        "scenario_file": sched.scenario.file,
        "world": sched.world.name,
        "n_scenarios": spec.n_scenarios,
        "chunk_size": spec.chunk_size,
        "n_chunks": spec.n_chunks,
        "models": list(spec.models),
        "parameter_names": list(spec.varied),
        "parameter_defaults": {n: float(sched.defaults[sched.parameter_index(n)]) for n in spec.varied},
        "all_parameter_names": [n for n in sched.parameter_names if not n.startswith("(")],
        "elasticity_settings": [list(x) for x in job.labels],
        "columns": [],
        "chunks_done": [],
        "failed": {m: 0 for m in spec.models},
        "failed_by_chunk": {},
        "notes": [],
        "complete": False,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def check_same_sweep(job, out: Path, manifest: dict[str, Any]) -> None:
    old = manifest.get("scenario_hash")
    if old is not None and old != job.scenario_hash:
        raise DataError(
            f"{str(out)!r} was written from another version of the base scenario "
            f"({manifest.get('scenario_file') or manifest.get('scenario')}): its measures or settings changed since "
            f"(scenario hash {old[:12]}, now {job.scenario_hash[:12]}). Resuming would mix rows of two scenario "
            "definitions: restore the file, or run the changed sweep into another output directory.")
    if manifest.get("spec_hash") != job.spec_hash:
        raise DataError(f"{str(out)!r} holds a different sweep (spec hash {str(manifest.get('spec_hash', '?'))[:12]}, "
                        f"this one {job.spec_hash[:12]}): the grid, sample, elasticities, models, seed, scenario or "
                        "world changed. Resume only an unchanged sweep, or choose another output directory.")
    if manifest["chunk_size"] != job.spec.chunk_size:
        raise DataError(f"{str(out)!r} was written with chunk_size {manifest['chunk_size']}, not "
                        f"{job.spec.chunk_size}; resume with chunk_size={manifest['chunk_size']} (CLI --chunk-size).")
