"""Unit-test a plugin natively, without Wasm: build requests (a sample, or one read from a
captured `pricing.calculated` event) and call the plugin as the host's call would."""

import json
from decimal import Decimal
from typing import Any

from .component import wire_rows
from .measure import Dimensions
from .money import parse, round_money
from .plugin import Plugin, PluginError
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


def sample_request() -> Request:
    """A 2-panel lift-slide door, 3000 × 2200 mm, priced like the demo organisation's
    template (the Rust SDK's `testing::sample_request`, field for field)."""
    size = Dimensions.mm(3000, 2200)
    panel = Dimensions.mm(1500, 2200)
    rows = [
        ("template:frame:tpl_lift", "Lift-slide frame", size.area_m2(), 310, "door", 0),
        ("component:glass:panel", "Triple glazing", panel.area_m2() * 2, 95, "glass", 10),
        ("option:handle:premium", "Premium handle", Decimal(1), 120, "hardware", 20),
        ("template:install:tpl_lift", "Installation", Decimal(1), 450, "labor", 30),
    ]
    items = tuple(
        BaseItem(key, text, qty, Decimal(unit), round_money(qty * unit), kind, offset)
        for key, text, qty, unit, kind, offset in rows
    )
    parts = tuple(Component(p, panel, ("premium-handle",)) for p in ("panel-left", "panel-right"))
    return Request(
        context=Context.LIVE,
        organization=Organization("org_sample", "Window Works", "de-DE", "EUR", UnitSystem.METRIC),
        session=Session("cs_sample", "configurator"),
        template=Template("tpl_lift", "2-Panel Lift-Slide", "2-panel-lift-slide"),
        configuration=Configuration(size, parts),
        config_hash="sample",
        base_pricing=BasePricing("EUR", sum((i.total for i in items), Decimal(0)), items),
    )


def _decimal(value: Any) -> Decimal:
    return parse(value) if isinstance(value, str) else parse(json.dumps(value))


def request_from_event(event: dict) -> Request:
    """The request a `pricing.calculated` event (the whole envelope or its `data`, with an
    optional `organization`) makes, as the host builds it."""
    data = event["data"] if isinstance(event.get("data"), dict) else event
    org = data.get("organization") or event.get("organization") or {}
    base = data["basePricing"]
    configuration = data["configuration"]
    submission = data.get("submission")
    return Request(
        context=Context(data.get("context", "live")),
        organization=Organization(
            org.get("id", ""),
            org.get("name", ""),
            org.get("locale", "en-US"),
            org.get("currency", base["currency"]),
            UnitSystem(org.get("unitSystem", "metric")),
        ),
        session=Session(data["session"]["id"], data["session"].get("origin", "")),
        template=Template(
            data["template"]["id"], data["template"].get("name", ""), data["template"].get("slug", "")
        ),
        configuration=Configuration(
            Dimensions.mm(configuration["width"], configuration["height"]),
            tuple(
                Component(
                    part["componentId"],
                    Dimensions.mm(part["width"], part["height"]),
                    tuple(o["optionId"] for o in part.get("selectedOptions", [])),
                )
                for part in configuration["components"]
            ),
            configuration.get("insideColorId"),
            configuration.get("outsideColorId"),
        ),
        config_hash=data["configHash"],
        base_pricing=BasePricing(
            base["currency"],
            _decimal(base["subtotal"]),
            tuple(
                BaseItem(
                    item["itemKey"],
                    item["description"],
                    _decimal(item["quantity"]),
                    _decimal(item["unitPrice"]),
                    _decimal(item["total"]),
                    item.get("itemType"),
                    item.get("sortOffset", 0),
                )
                for item in base["lineItems"]
            ),
        ),
        submission=submission,
    )


def answer(plugin: Plugin, request: Request, settings: Any) -> dict:
    """What the component answers, as the shared test vectors write it: `{"lineItems":
    [...]}` with decimals as their WIT text, or `{"error": kind}`. `settings` is JSON text
    or a value to serialise."""
    text = settings if isinstance(settings, str) else json.dumps(settings)
    try:
        return {"lineItems": wire_rows(plugin.run(request, text))}
    except PluginError as declined:
        return {"error": declined.kind}


def canonical(value: Any) -> str:
    """JSON text with sorted keys and no spaces: the form every language's answer is
    compared in, byte for byte."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
