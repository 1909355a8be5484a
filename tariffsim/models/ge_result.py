"""GE Result assembly: the shared baseline calibrated once, country columns in cache-sized chunks.

Belongs here: what :func:`tariffsim.models.ge.run_ge` does around the solve so that one
scenario at a time stays cheap (a calibrated baseline and its summary remembered per world
and baseline tariffs) and large batches stay in cache (country columns computed over chunks
of scenarios whose per-flow arrays fit in L2). The formulas are in
:mod:`tariffsim.kernels.cp_outputs`.
"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np

from ..kernels.cp import Baseline, Equilibrium, calibrate
from ..kernels.cp_outputs import acr_real_wage_hat, baseline_summary, country_outputs, flow_outputs
from ..shocks import Shocks

__all__ = ["CHUNK_BYTES", "calibrated", "expand", "outputs"]


#: The last few calibrated shared baselines: (world, baseline tariffs (1, n, n, S), Baseline, summary).
_CALIBRATED: list = []
_CALIBRATED_SIZE = 4
_CALIBRATED_LOCK = threading.Lock()


def calibrated(world, tb: np.ndarray):
    """calibrate() and baseline_summary() of (world, tb), remembered for shared baselines (batch 1).

    A world is immutable (read-only arrays), so the same world object and equal baseline
    tariffs give the same baseline: single scenarios on one world calibrate once.
    """
    if tb.shape[0] == 1:
        with _CALIBRATED_LOCK:
            for entry in _CALIBRATED:
                if entry[0] is world and np.array_equal(entry[1], tb):
                    return entry[2], entry[3]
    base = calibrate(world.flows, tb, world.value_added_share, world.io_coefficients)
    summary = baseline_summary(base, world.goods)
    if tb.shape[0] == 1:
        with _CALIBRATED_LOCK:
            _CALIBRATED.insert(0, (world, np.array(tb), base, summary))
            del _CALIBRATED[_CALIBRATED_SIZE:]
    return base, summary


def expand(base: Baseline, b: int) -> Baseline:
    """The baseline with every batched array viewed at batch size b (read-only broadcast views)."""
    if base.pi.shape[0] == b:
        return base
    return dataclasses.replace(base, **{k: np.broadcast_to(getattr(base, k), (b,) + getattr(base, k).shape[1:])
                                        for k in _BATCHED})


#: Bytes of one per-flow array a chunk of scenarios may occupy while the Result is built
#: (the per-flow reductions then run in cache: 1 MiB, half the L2 of the machine measured).
CHUNK_BYTES = 1 << 20


def outputs(shocks: Shocks, base: Baseline, eq, theta, prod, ntb, taste, summary):
    """Country and flow columns of the Result (ETRs over goods imports, ACR without IO links).

    Country columns are computed in chunks of scenarios whose per-flow arrays fit in cache.
    """
    world = shocks.world
    b, n, _, s = eq.flows.shape
    size = max(1, CHUNK_BYTES // (8 * n * n * s))
    acr = world.io_coefficients is None and world.value_added_share is None
    parts = []
    for k in range(0, b, size):
        sl = slice(k, min(k + size, b))
        if size >= b:  # one chunk: no slicing
            base_k, eq_k, sum_k = base, eq, summary
        else:
            base_k, eq_k = _rows(base, sl), _rows(eq, sl)
            sum_k = {key: v[sl] if v.shape[0] == b else v for key, v in summary.items()}
        # ETRs over goods imports, as in every model (services pay no duty)
        part = country_outputs(base_k, eq_k, shocks.tariff_new[sl], goods=world.goods, summary=sum_k)
        if acr:
            part["acr_real_wage_pct"] = 100.0 * (acr_real_wage_hat(base_k, eq_k, theta[sl], _slice(prod, sl),
                                                                   _slice(ntb, sl)) - 1.0)
        parts.append(part)
    country = parts[0] if len(parts) == 1 else {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
    if acr and taste is not None:  # the ACR identity does not hold with taste shifts
        shifted = np.any(shocks.demand_shift != 0, axis=(1, 2, 3))
        country["acr_real_wage_pct"][shifted] = np.nan
    return country, flow_outputs(base, eq, shocks.tariff_new)


def _slice(a, sl: slice):
    return None if a is None else a[sl]


def _rows(x, sl: slice):
    """Scenarios ``sl`` of a Baseline or Equilibrium (every batched field sliced; views)."""
    if isinstance(x, Equilibrium):
        return Equilibrium(**{f.name: getattr(x, f.name)[sl] for f in dataclasses.fields(x)})
    return dataclasses.replace(x, **{k: getattr(x, k)[sl] for k in _BATCHED})


_BATCHED = ("flows", "tariff", "pi", "expenditure", "value_added", "deficit", "income", "alpha", "alpha_clipped")
