"""Shared helpers for the GE tests: data location and small random worlds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tariffsim import TradeWorld

DATA = Path(__file__).parents[1] / ".." / "shared" / "data"
CP_DIR = DATA / "caliendo_parro_2015"
GRAVITY_FILE = DATA / "gegravity_sample" / "sample_data_set.dlm"

needs_cp = pytest.mark.skipif(not (CP_DIR / "xbilat1993.txt").is_file(), reason=f"CP 2015 files not found in {CP_DIR}")
needs_gravity = pytest.mark.skipif(not GRAVITY_FILE.is_file(), reason=f"gegravity sample not found at {GRAVITY_FILE}")


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
