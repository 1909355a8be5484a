"""Non-tariff shocks: ntb, productivity, deficit, purchase and currency measures → Shocks fields.

Belongs here: each non-tariff measure as (field, size parameter, switch, pattern), and the
batched ``shock = sum_m enabled_m * theta_m * pattern_m``.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, shorten_list
from .context import Context

__all__ = ["build_nontariff", "nontariff_fields"]


def _sectors_mask(world, codes) -> np.ndarray:
    index = {c: k for k, c in enumerate(world.sectors)}
    mask = np.zeros(world.n_sectors)
    for code in codes or world.sectors:
        if code in index:
            mask[index[code]] = 1.0
    return mask


def _one(ctx: Context, code: str, what: str) -> int:
    k = ctx.geo.to_world(code)
    if k is None:
        raise DataError(f"{what} {code!r} has no country in this world {shorten_list(ctx.world.countries)}.")
    return k


def _pattern(ctx: Context, m) -> tuple[str, str, float, np.ndarray]:
    """(Shocks field, parameter suffix, default size, pattern) of one non-tariff measure."""
    world = ctx.world
    n, s = world.n_countries, world.n_sectors
    if m.kind == "ntb":
        pattern = np.zeros((n, n, s))
        j = _one(ctx, m.importer, f"measure {m.id}: importer")
        ex = sorted(ctx.geo.world_indices(m.partners)) if m.partners else [i for i in range(n) if i != j]
        pattern[np.ix_(ex, [j], np.arange(s))] = _sectors_mask(world, m.sectors)[None, None, :]
        return "ntb", "rate", m.rate, pattern
    if m.kind == "productivity":
        pattern = np.zeros((n, s))
        pattern[_one(ctx, m.country, f"measure {m.id}: country")] = _sectors_mask(world, m.sectors)
        return "productivity", "change", m.change, pattern
    if m.kind == "deficit":
        pattern = np.zeros(n)
        pattern[_one(ctx, m.recipient, f"measure {m.id}: recipient")] += 1.0
        pattern[_one(ctx, m.payer, f"measure {m.id}: payer")] -= 1.0
        return "deficit_change", "amount", m.amount, pattern
    if m.kind == "purchase":
        i, j = _one(ctx, m.exporter, f"measure {m.id}: exporter"), _one(ctx, m.importer, f"measure {m.id}: importer")
        mask = _sectors_mask(world, m.sectors)
        flow = world.flows[i, j] * mask
        shares = flow / flow.sum() if flow.sum() > 0 else mask / mask.sum()
        pattern = np.zeros((n, n, s))
        pattern[i, j] = shares  # the amount is spread over the sectors by baseline flows
        return "demand_shift", "amount", m.amount, pattern
    pattern = np.zeros(n)  # currency
    pattern[_one(ctx, m.country, f"measure {m.id}: country")] = m.pass_through
    return "currency", "appreciation", m.appreciation, pattern


#: valid range of each non-tariff size parameter (as in the scenario schema)
_SIZE_BOUNDS = {"rate": (-0.9, 5.0), "change": (-0.9, 5.0), "amount": (0.0, np.inf), "appreciation": (-0.5, 1.0)}


def build_nontariff(ctx: Context) -> list[tuple[str, int, int, np.ndarray]]:
    """(field, size parameter, switch parameter, pattern) per non-tariff measure."""
    out = []
    for m in ctx.other_measures:
        name, suffix, value, pattern = _pattern(ctx, m)
        size = ctx.params.add(f"{m.id}.{suffix}", value, _SIZE_BOUNDS[suffix])
        out.append((name, size, ctx.params.add(f"{m.id}.enabled", 1.0), pattern))
    return out


def nontariff_fields(theta: np.ndarray, other) -> dict[str, np.ndarray]:
    """Shocks fields for a batch: shock = sum_m enabled_m * theta_m * pattern_m."""
    bsz = theta.shape[0]
    fields: dict[str, np.ndarray] = {}
    for name, p, on, pattern in other:
        size = theta[:, p] * (theta[:, on] > 0.5)
        term = size.reshape((bsz,) + (1,) * pattern.ndim) * pattern[None]
        fields[name] = fields.get(name, 0.0) + term
    if "productivity" in fields:
        fields["productivity"] = 1.0 + fields["productivity"]
    return fields
