"""Optimal trade policy: optimal tariffs, retaliation and tariff wars (see :mod:`tariffsim.optimal.ld`)."""

from .ld import (
           PolicyOutcome,
           optimal_retaliation,
           optimal_tariff,
           reciprocal_retaliation,
           tariff_war,
           with_bilateral_rates,
)

__all__ = ["PolicyOutcome", "optimal_tariff", "optimal_retaliation", "reciprocal_retaliation", "tariff_war",
           "with_bilateral_rates"]
