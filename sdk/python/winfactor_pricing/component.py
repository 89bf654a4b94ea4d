"""The bridge between componentize-py's generated bindings and a `Plugin`: converts the
request to SDK types, calls the plugin, converts the answer (or its `PluginError`) back.
Only this module touches the bindings, and only inside the component."""

import json
from decimal import Decimal
from typing import Any

from .breakdown import Breakdown
from .measure import Dimensions
from .money import parse, wire
from .plugin import Failed, Plugin, PluginError
from .request import (
    BaseItem,
    BasePricing,
    Component,
    Configuration,
    Context,
    Organization,
    Request,
    Session,
    Template,
    UnitSystem,
)


def request_from_wit(request: Any) -> Request:
    """The SDK request of a WIT `pricing-request` (any object with its fields)."""
    base = request.base_pricing
    configuration = request.configuration
    org = request.organization
    submission = None
    if request.submission is not None:
        try:
            submission = json.loads(request.submission)
        except ValueError:
            submission = None
    return Request(
        context=Context(request.context.name.lower()),
        organization=Organization(
            org.id, org.name, org.locale, org.currency, UnitSystem(org.unit_system.name.lower())
        ),
        session=Session(request.session.id, request.session.origin),
        template=Template(request.template.id, request.template.name, request.template.slug),
        configuration=Configuration(
            Dimensions.mm(configuration.width_mm, configuration.height_mm),
            tuple(
                Component(
                    part.component_id,
                    Dimensions.mm(part.width_mm, part.height_mm),
                    tuple(part.selected_options),
                )
                for part in configuration.components
            ),
            configuration.inside_color_id,
            configuration.outside_color_id,
        ),
        config_hash=request.config_hash,
        base_pricing=BasePricing(
            base.currency,
            parse(base.subtotal),
            tuple(
                BaseItem(
                    item.item_key,
                    item.description,
                    parse(item.quantity),
                    parse(item.unit_price),
                    parse(item.total),
                    item.item_type,
                    item.sort_offset,
                )
                for item in base.line_items
            ),
        ),
        submission=submission,
    )


def wire_rows(breakdown: Breakdown) -> list[dict]:
    """The rows as the WIT `line-item` records carry them (decimals as their text)."""
    return [
        {
            "itemKey": row.item_key,
            "externalRef": row.external_ref,
            "description": row.description,
            "quantity": wire(Decimal(row.quantity)),
            "unitPrice": wire(Decimal(row.unit_price)),
            "itemType": row.item_type,
            "sortOffset": row.sort_offset,
        }
        for row in breakdown.line_items
    ]


def component(plugin_class: type[Plugin]) -> type:
    """The class componentize-py exports for `plugin_class`: end the app module with
    `WitWorld = component(MyPlugin)`."""
    plugin = plugin_class()

    class WitWorld:
        def price(self, request: Any) -> Any:
            from componentize_py_types import Err
            from wit_world.imports import types as wit

            try:
                breakdown = plugin.run(request_from_wit(request), request.settings)
            except PluginError as declined:
                raise Err(_wit_error(wit, declined)) from None
            except Exception as bad:  # noqa: BLE001 - any other exception declines the run
                raise Err(_wit_error(wit, Failed(f"{type(bad).__name__}: {bad}"))) from None
            return wit.Breakdown(
                [
                    wit.LineItem(
                        row["itemKey"],
                        row["externalRef"],
                        row["description"],
                        row["quantity"],
                        row["unitPrice"],
                        row["itemType"],
                        row["sortOffset"],
                    )
                    for row in wire_rows(breakdown)
                ]
            )

    WitWorld.__name__ = WitWorld.__qualname__ = "WitWorld"
    return WitWorld


def _wit_error(wit: Any, error: PluginError) -> Any:
    case = {
        "invalid-settings": wit.PluginError_InvalidSettings,
        "unsupported": wit.PluginError_Unsupported,
    }.get(error.kind, wit.PluginError_Failed)
    return case(error.why)
