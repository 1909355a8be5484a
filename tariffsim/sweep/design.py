"""The sweep design: scenario index -> parameter values, computed on the fly per chunk.

Belongs here: turning a range of scenario indices ``[start, stop)`` into parameter values
(grid, sample) and an elasticity setting, deterministically from the seed and the indices
alone, so that no array of the sweep's size is ever held and any chunk can be recomputed
identically on any machine; the elasticity draws. Does not belong here: models, files.

Index layout: ``k = (e * n_sample + s) * n_grid + g`` - elasticity setting ``e`` slowest,
grid point ``g`` fastest. Random numbers:

- ``random``: sample point ``s`` lies in block ``s // BLOCK``; each block's uniforms come
  from ``default_rng([seed, 1, block])``.
- ``lhs``: Latin hypercube over all ``n`` points without storing a permutation: the stratum
  of point ``s`` in dimension ``j`` is ``pi_j(s)``, a keyed pseudo-random permutation of
  ``[0, n)`` (a 4-round Feistel network on the next even power of two, cycle-walking back
  into ``[0, n)``), plus a uniform jitter within the stratum from the ``random`` blocks.
- ``sobol``: ``scipy.stats.qmc.Sobol`` scrambled with ``seed``; point ``s`` via
  ``fast_forward(s)``.
- elasticity draw ``d`` of source ``i``: ``default_rng([seed, 3, i, d])``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .spec import SweepSpec, Uniform

__all__ = ["Design", "feistel_permutation", "elasticity_draws"]

BLOCK = 1024
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 arrays (wrap-around arithmetic)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def feistel_permutation(x, n: int, keys) -> np.ndarray:
    """A keyed bijection of ``[0, n)`` evaluated at ``x`` (vectorised, O(len(x)) memory).

    Parameters
    ----------
    x : array of int, values in [0, n)
    n : int
    keys : array of uint64
        One key per Feistel round.

    Returns
    -------
    ndarray of int64, values in [0, n)
    """
    half = max(1, (max(int(n) - 1, 1).bit_length() + 1) // 2)
    mask = np.uint64((1 << half) - 1)
    shift = np.uint64(half)
    keys = np.asarray(keys, dtype=np.uint64)

    def perm(v: np.ndarray) -> np.ndarray:
        left, right = v >> shift, v & mask
        for key in keys:
            left, right = right, left ^ (_mix(right ^ key) & mask)
        return (left << shift) | right

    y = perm(np.asarray(x, dtype=np.uint64))
    bad = y >= np.uint64(n)
    while bad.any():  # cycle-walking: the domain is < 4n, so few rounds are needed
        y[bad] = perm(y[bad])
        bad = y >= np.uint64(n)
    return y.astype(np.int64)


def elasticity_draws(spec: SweepSpec, sectors) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """Trade elasticities θ for every elasticity setting of the sweep.

    Returns
    -------
    theta : ndarray of shape (n_elasticity, S)
    labels : list of (source, draw) per row; draw -1 means the point estimate.
    """
    from scipy.stats import truncnorm

    from ..datasets import load_elasticity_table
    from ..errors import DataError, shorten_list

    e = spec.elasticities
    table = load_elasticity_table()
    sectors = list(sectors)
    missing = [s for s in sectors if s not in table.index]
    if missing:
        raise DataError(
            f"the elasticity table has no sector(s) {shorten_list(missing)}; elasticity sweeps need a world "
            f"with ICIO sectors ({shorten_list(table.index)})."
        )
    rows, labels = [], []
    for i, source in enumerate(e.sources):
        mu = table.loc[sectors, source].to_numpy(float)
        se = table.loc[sectors, f"se_{source}"].to_numpy(float)
        if e.missing_se is not None:
            se = np.where(np.isnan(se), e.missing_se * mu, se)
        free = np.isfinite(se) & (se > 0)
        if e.draws == 0:
            rows.append(np.maximum(mu, e.lower) if e.lower > 0 else mu)
            labels.append((source, -1))
            continue
        scale = np.where(free, se, 1.0)
        a = (e.lower - mu) / scale
        # sectors mapped from the same published estimate share one draw (one estimate, one error)
        origin = table.loc[sectors, f"{source}_source_sector"].astype(str).to_numpy()
        codes, uniq = pd.factorize(origin)
        for d in range(e.draws):
            u = np.random.default_rng([spec.seed, 3, i, d]).random(len(uniq))[codes]
            x = truncnorm.ppf(u, a, np.inf, loc=mu, scale=scale)  # Normal(mu, se) truncated to [lower, inf)
            rows.append(np.where(free, x, mu))
            labels.append((source, d))
    return np.array(rows), labels


class Design:
    """Parameter values of any range of scenario indices of a sweep.

    Parameters
    ----------
    spec : SweepSpec
    """

    def __init__(self, spec: SweepSpec) -> None:
        self.spec = spec
        self.shape = (spec.n_elasticity, spec.n_sample, spec.n_grid)
        self.n = spec.n_scenarios
        self._grid_values = [np.asarray(v, dtype=float) for v in spec.grid.values()]
        s = spec.sample
        self._dists = list(s.parameters.values()) if s else []
        self._keys = [
            np.random.SeedSequence([spec.seed, 2, j]).generate_state(4, dtype=np.uint64)
            for j in range(len(self._dists))
        ]

    def chunk_bounds(self, chunk: int, chunk_size: int) -> tuple[int, int]:
        start = chunk * chunk_size
        return start, min(start + chunk_size, self.n)

    def values(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Varied parameter values and elasticity setting of scenarios ``start..stop-1``.

        Returns
        -------
        values : ndarray of shape (stop - start, len(spec.varied))
            Columns in the order of :attr:`SweepSpec.varied`.
        elasticity : ndarray of int, shape (stop - start,)
            Row of :func:`elasticity_draws` (0 when the sweep has no ``[elasticities]``).
        """
        k = np.arange(start, stop, dtype=np.int64)
        e, s, g = np.unravel_index(k, self.shape)
        cols = []
        if self._grid_values:
            idx = np.unravel_index(g, self.spec.grid_shape)
            cols += [vals[i] for vals, i in zip(self._grid_values, idx)]
        if self._dists:
            uniq, inv = np.unique(s, return_inverse=True)
            u = self._unit(uniq)[inv]
            for j, dist in enumerate(self._dists):
                if isinstance(dist, Uniform):
                    cols.append(dist.low + u[:, j] * (dist.high - dist.low))
                else:  # Choice: equally likely values
                    vals = np.asarray(dist.values, dtype=float)
                    cols.append(vals[np.minimum((u[:, j] * len(vals)).astype(np.int64), len(vals) - 1)])
        values = np.column_stack(cols) if cols else np.zeros((len(k), 0))
        return values, e.astype(np.int64)

    # ------------------------------------------------------------- sampling
    def _uniform_blocks(self, points: np.ndarray, salt: int) -> np.ndarray:
        """Reproducible uniforms (len(points), d) from per-block generators."""
        d = len(self._dists)
        out = np.empty((len(points), d))
        blocks = points // BLOCK
        for b in np.unique(blocks):
            sel = blocks == b
            u = np.random.default_rng([self.spec.seed, salt, int(b)]).random((BLOCK, d))
            out[sel] = u[points[sel] % BLOCK]
        return out

    def _unit(self, points: np.ndarray) -> np.ndarray:
        """Sample points in the unit cube, shape (len(points), d); ``points`` sorted, unique."""
        method, n = self.spec.sample.method, self.spec.sample.n
        if method == "random":
            return self._uniform_blocks(points, 1)
        if method == "lhs":
            jitter = self._uniform_blocks(points, 1)
            strata = np.column_stack([feistel_permutation(points, n, key) for key in self._keys])
            return (strata + jitter) / n  # x = (pi(s) + u) / n: one point per stratum
        return self._sobol(points)

    def _sobol(self, points: np.ndarray) -> np.ndarray:
        from scipy.stats import qmc

        out = np.empty((len(points), len(self._dists)))
        breaks = np.flatnonzero(np.diff(points) != 1) + 1
        for run in np.split(np.arange(len(points)), breaks):
            engine = qmc.Sobol(len(self._dists), scramble=True, seed=np.random.default_rng([self.spec.seed, 4]))
            if points[run[0]] > 0:
                engine.fast_forward(int(points[run[0]]))
            with warnings.catch_warnings():
                # chunks take arbitrary slices of the sequence; balance is a property of the
                # whole sample (n a power of 2), checked once when the sweep starts
                warnings.filterwarnings("ignore", message="The balance properties of Sobol", category=UserWarning)
                out[run] = engine.random(len(run))
        return out
