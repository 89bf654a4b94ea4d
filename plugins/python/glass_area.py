"""Glass area surcharge plus a volume discount (the Rust `plugins/glass-area`, in Python).

Adds one "Glass area surcharge" row for the glazed area (every component's width × height),
then discounts every unit price by the largest tier whose minimum area is reached.

Settings: `{"surchargePerM2": 12.5, "tiers": [{"minAreaM2": 5, "percent": 5}]}`.
"""

from dataclasses import dataclass
from decimal import Decimal

from winfactor_pricing import (
    Breakdown, InvalidSettings, LineItem, Plugin, component, info, round_dp, text,
)


@dataclass
class Tier:
    min_area_m2: Decimal
    percent: Decimal


@dataclass
class GlassSettings:
    surcharge_per_m2: Decimal
    tiers: list[Tier]


def _tier(settings):
    tier = Tier(settings.required_decimal("minAreaM2"), settings.required_decimal("percent"))
    settings.done()
    return tier


class GlassArea(Plugin[GlassSettings]):
    def settings(self, settings):
        parsed = GlassSettings(
            settings.decimal("surchargePerM2", Decimal("12.50")), settings.records("tiers", _tier)
        )
        settings.done()
        return parsed

    def price(self, request, settings):
        if settings.surcharge_per_m2 < 0 or any(not 0 <= t.percent <= 100 for t in settings.tiers):
            raise InvalidSettings("surchargePerM2 must be ≥ 0 and every percent within 0–100")
        area = sum((part.size.area_m2() for part in request.configuration.components), Decimal(0))
        breakdown = Breakdown.from_base(request.base_pricing)
        if settings.surcharge_per_m2 > 0 and area > 0:
            breakdown.add(
                LineItem(
                    "Glass area surcharge",
                    round_dp(area, 3),
                    settings.surcharge_per_m2,
                    item_type="glass",
                    external_ref="plugin:glass-area:surcharge",
                    sort_offset=900,
                )
            )
        reached = None  # the largest minimum reached; the last of equals, as Rust's max_by_key
        for tier in settings.tiers:
            if area >= tier.min_area_m2 and (reached is None or tier.min_area_m2 >= reached.min_area_m2):
                reached = tier
        if reached is not None:
            keep = 1 - reached.percent / 100
            breakdown.reprice_all(lambda item: item.unit_price * keep)
            info(f"{text(area)} m² of glass: {text(reached.percent)}% volume discount")
        return breakdown


WitWorld = component(GlassArea)
