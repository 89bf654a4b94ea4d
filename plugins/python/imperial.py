"""Imperial-market pricing (the Rust `plugins/imperial`, in Python): the product priced per
square foot of its overall size with a minimum billable area; kept items (labor, hardware
by default) stay; every price charm-rounded up to .99.

Settings: `{"pricePerSqFt": 38.5, "minimumSqFt": 10, "keepItemTypes": ["labor", "hardware"]}`.
"""

from dataclasses import dataclass
from decimal import Decimal

from winfactor_pricing import (
    Breakdown, InvalidSettings, LineItem, Plugin, UnitSystem, Unsupported, component,
    round_dp, round_to_99, text,
)


@dataclass
class ImperialSettings:
    price_per_sq_ft: Decimal
    minimum_sq_ft: Decimal
    keep_item_types: list[str]


class Imperial(Plugin[ImperialSettings]):
    def settings(self, settings):
        parsed = ImperialSettings(
            settings.decimal("pricePerSqFt", Decimal("38.50")),
            settings.decimal("minimumSqFt", Decimal(10)),
            settings.strings("keepItemTypes", ["labor", "hardware"]),
        )
        settings.done()
        return parsed

    def price(self, request, settings):
        if request.organization.unit_system != UnitSystem.IMPERIAL:
            raise Unsupported("the organisation measures in metric")
        if settings.price_per_sq_ft <= 0:
            raise InvalidSettings("pricePerSqFt must be > 0")
        size = request.configuration.size
        area = round_dp(size.area_sqft(), 2)
        if area < settings.minimum_sq_ft:  # equal: the computed area stays (as Rust's max)
            area = settings.minimum_sq_ft
        width, height = (round_dp(length.inches(), 1) for length in (size.width, size.height))
        breakdown = Breakdown()
        breakdown.add(
            LineItem(
                f"{request.template.name} (W {text(width)}″ × H {text(height)}″, {text(area)} sq ft)",
                Decimal(1),
                round_to_99(area * settings.price_per_sq_ft),
                item_type="window",
            )
        )
        for item in request.base_pricing.line_items:
            if item.item_type is not None and item.item_type in settings.keep_item_types:
                kept = LineItem.from_base(item)
                kept.unit_price = round_to_99(item.unit_price)
                breakdown.add(kept)
        return breakdown


WitWorld = component(Imperial)
