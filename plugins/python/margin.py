"""Markup pricing: every unit price raised by a markup chosen per item type, else per
template, else a default (the Rust `plugins/margin`, in Python).

Settings: `{"default": 0.25, "byTemplate": {"2-panel-lift-slide": 0.30},
"byItemType": {"glass": 0.10, "labor": 0}}` (fractions: 0.25 = +25 %).
"""

from dataclasses import dataclass
from decimal import Decimal

from winfactor_pricing import Breakdown, InvalidSettings, Plugin, component, info


@dataclass
class MarginSettings:
    default: Decimal
    by_template: dict[str, Decimal]
    by_item_type: dict[str, Decimal]


class Margin(Plugin[MarginSettings]):
    def settings(self, settings):
        parsed = MarginSettings(
            settings.decimal("default", Decimal(0)),
            settings.decimal_map("byTemplate"),
            settings.decimal_map("byItemType"),
        )
        settings.done()
        return parsed

    def price(self, request, settings):
        markups = [settings.default, *settings.by_template.values(), *settings.by_item_type.values()]
        if any(m < -1 for m in markups):
            raise InvalidSettings("a markup below -1 (-100 %)")
        template = settings.by_template.get(request.template.slug)

        def markup(item):
            chosen = settings.by_item_type.get(item.item_type) if item.item_type else None
            if chosen is None:
                chosen = template if template is not None else settings.default
            return item.unit_price * (1 + chosen)

        breakdown = Breakdown.from_base(request.base_pricing).reprice_all(markup)
        info(f"marked up {len(breakdown.line_items)} items")
        return breakdown


WitWorld = component(Margin)
