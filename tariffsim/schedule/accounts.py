"""Customs accounts on the US import lines: duties by partner, by measure and by legal authority.

Belongs here: the customs-value view of a compiled schedule (the accounting model's tables
are built from it): duties ``sum_c w_c t_c`` over the line cells of each partner, the import
value each measure's duty applies to, and each legal authority's part of the duty.
"""

from __future__ import annotations

import numpy as np

from .aggregate import GroupSum, to_world
from .context import authority_of
from .rates import evaluate_cells
from .shares import multipliers

__all__ = ["AccountsMixin"]


class AccountsMixin:
    """Methods of :class:`~tariffsim.schedule.compile.CompiledSchedule` on customs accounts."""

    def authorities(self) -> tuple[str, ...]:
        """Legal authorities of this schedule: the base's (``mfn``) first, then the measures'."""
        labels = [self._base_authority()] + [p.authority for p in self.plans if p.kind != "exemption"]
        return tuple(dict.fromkeys(labels))

    def _base_authority(self) -> str:
        return authority_of(self.base_measures[0]) if self.base_measures else "mfn"

    def _by_authority(self, theta: np.ndarray, layout, masks: dict | None = None):
        """(authorities, total (B, C), duty (B, A, C)) with duty[:, 0] the base part; sums to total.

        ``masks``, if given, receives the applied masks by measure id.
        """
        total, duty, applied = evaluate_cells(theta, layout, self.plans, self.rule, detail=True)
        if masks is not None:
            masks.update(applied)
        names = self.authorities()
        pos = {a: k for k, a in enumerate(names)}
        out = np.zeros((theta.shape[0], len(names), total.shape[1]))
        out[:, 0] = layout.base[None, :]
        for k, part in duty.items():
            out[:, pos[self.plans[k].authority]] += part
        return names, total, out

    def evaluate_by_authority(self, theta=None) -> tuple[tuple[str, ...], np.ndarray]:
        """Tariff rates split by legal authority: (authorities, array (B, A, n, n, S)).

        Summed over the authority axis it equals :meth:`evaluate` (up to rounding); entry 0 is
        the base rate (``mfn``).
        """
        theta = self._as_batch(theta)
        names, _, duty = self._by_authority(theta, self._compact)
        mult = multipliers(theta, self._compact.role, self._shares)
        if mult is not None:
            duty = duty * mult[:, None, :]
        b, a, c = duty.shape
        flat = to_world(self.world, self.groups, duty.reshape(b * a, c), self._compact)
        return names, flat.reshape((b, a) + flat.shape[1:])

    def line_accounting(self, theta=None):
        """Customs-weighted duties by US import partner (line data only).

        Returns
        -------
        dict with ``partner`` (codes), ``value`` (USD), ``duty_base`` and ``duty_new``
        (B, partners) in USD, ``applied`` {measure id: (B, partners) USD covered},
        ``authorities`` (names) and ``by_authority`` (B, A, partners) USD of duty levied
        under each authority (the base under ``mfn``); it sums to ``duty_new``.
        """
        theta = self._as_batch(theta)
        masks: dict = {}
        names, total, duty = self._by_authority(theta, self._full, masks)
        line = self.cells["line_data"]
        partners, inv = np.unique(self.cells["partner"][line], return_inverse=True)
        mult = multipliers(theta, self._full.role, self._shares)
        mult = np.ones((theta.shape[0], len(line))) if mult is None else mult
        w = self.cells["weight"][line]
        p = len(partners)
        # sum over the cells of each partner: duty_p = sum_c w_c m_c t_c (m: share multiplier)
        agg = GroupSum(inv, w, p)
        m = mult[:, line]
        value = agg(m[0])
        duty_new = agg(total[:, line] * m)
        duty_base = agg(self.cells["base"][line] * m[0])
        applied = {mid: agg(mask[:, line] * m) for mid, mask in masks.items()}
        split = agg(duty[:, :, line] * m[:, None, :])
        return {"partner": partners, "value": value, "duty_base": duty_base, "duty_new": duty_new,
                "applied": applied, "authorities": names, "by_authority": split}
