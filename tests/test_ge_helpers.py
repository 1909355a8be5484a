"""Shared helpers for the GE tests: data location, small random worlds and shocks, the CP NAFTA shock."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tariffsim import Shocks, TradeWorld
from tariffsim.kernels import _accel

DATA = Path(__file__).parents[1] / ".." / "shared" / "data"
CP_DIR = DATA / "caliendo_parro_2015"
GRAVITY_FILE = DATA / "gegravity_sample" / "sample_data_set.dlm"

needs_cp = pytest.mark.skipif(not (CP_DIR / "xbilat1993.txt").is_file(), reason=f"CP 2015 files not found in {CP_DIR}")
needs_gravity = pytest.mark.skipif(not GRAVITY_FILE.is_file(), reason=f"gegravity sample not found at {GRAVITY_FILE}")
has_numba = pytest.mark.skipif(not _accel.numba_available(), reason="numba not installed (extra tariffsim[fast])")
NAFTA = ("MEX", "CAN", "USA")


def random_world(n: int = 5, s: int = 3, *, io: bool = True, seed: int = 0) -> TradeWorld:
    """A random world with strong home bias and, optionally, input-output links."""
    rng = np.random.default_rng(seed)
    flows = rng.uniform(1.0, 10.0, (n, n, s))
    flows[np.arange(n), np.arange(n), :] *= 20.0
    kwargs = {}
    if io:
        va = rng.uniform(0.6, 0.9, (n, s))
        shares = rng.dirichlet(np.full(s, 5.0), size=(n, s)).transpose(0, 2, 1)  # [n, k, j], sums over k
        kwargs = dict(value_added_share=va, io_coefficients=shares * (1.0 - va)[:, None, :])
        # make final demand positive: absorption must exceed intermediate demand
        io_ = kwargs["io_coefficients"]
        for _ in range(50):
            final = flows.sum(axis=0) - np.einsum("nkj,nj->nk", io_, flows.sum(axis=1))
            if final.min() > 0:
                break
            flows[np.arange(n), np.arange(n), :] *= np.where(final < 0, 2.0, 1.0)
    return TradeWorld([f"C{k}" for k in range(n)], [f"S{k}" for k in range(s)], flows, name="random", **kwargs)


def random_shocks(world, b, seed, scale=0.3, extras=False) -> Shocks:
    """b random tariff increases of up to ``scale`` on a random baseline (0-5%); with ``extras``
    also iceberg cuts, productivity and a transfer (every input of the compiled GE path)."""
    rng = np.random.default_rng(seed)
    n, s = world.n_countries, world.n_sectors
    base = rng.uniform(0, 0.05, (n, n, s))
    new = base[None] + rng.uniform(0, scale, (b, n, n, s))
    kw = {}
    if extras:
        kw = dict(ntb=rng.uniform(-0.1, 0.1, (b, n, n, s)), productivity=rng.uniform(0.95, 1.05, (b, n, s)),
                  deficit_change=np.tile(np.r_[3.0, -3.0, np.zeros(n - 2)], (b, 1)))
    return Shocks.from_rates(world, base, new, **kw)


def nafta_shocks(data) -> Shocks:
    """CP (2015): 1993 tariffs, NAFTA members' tariffs on each other at their 2005 levels."""
    world = data.world
    new = data.tariffs_1993.copy()
    idx = [world.country_index(c) for c in NAFTA]
    for i in idx:
        for n in idx:
            if i != n:
                new[i, n, :] = data.tariffs_2005[i, n, :]
    return Shocks.from_rates(world, data.tariffs_1993, new, scenarios=("nafta",))
