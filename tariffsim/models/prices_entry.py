"""The registry entry of the prices model (standard library only, like the registry).

Kept apart only because its options are many; :mod:`tariffsim.models.registry` lists it in ``_ENTRIES``.
"""

from __future__ import annotations

from .entry import ModelEntry, Option

__all__ = ["PRICES_ENTRY"]


def _share(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def _trade_model(value) -> bool:
    if value is None:
        return True
    from .registry import get_model, model_names

    return value in model_names() and get_model(value).elasticities is not None


PRICES_ENTRY = ModelEntry(
    "prices", "tariffsim.models.prices:run_prices",
    "US consumer prices and household costs: input-output cost push of the tariffs (BEA 2024), PCE categories, "
    "income deciles",
    options=(
        Option("pass_through", 1.0, "share of the tariff passed on to import prices", check=_share,
               expect="a number in [0, 1]"),
        Option("domestic_pricing", 0.0, "domestic producers' price response to their import competitors' price "
               "change (0: cost push only, 1: match them)", check=_share, expect="a number in [0, 1]"),
        Option("substitution", None, "post-substitution with the import changes of this trade model",
               check=_trade_model, expect="None or the name of a trade model with elasticities"),
        Option("substitution_options", None, "options of the substitution model (dict)", sweep=False),
        Option("substitution_shares", True, "post-substitution also moves imported shares (False: tariff weights "
               "only)", check=lambda v: isinstance(v, bool), expect="True or False"),
        Option("households", None, "number of US households, millions (default: CBO 2021, 131.3)", sweep=False),
        Option("margins", "constant_dollar", "distribution margins fixed in USD or proportional to prices",
               choices=("constant_dollar", "constant_percentage")),
        Option("top", 20, "PCE categories listed in the report", sweep=False),
    ),
    schedules=True,
)
