"""The kit natively: money rounding, measures, the breakdown helpers, strict settings, the
sample request and event reading, the answer form the shared vectors use."""

from decimal import Decimal

import pytest
from winfactor_pricing import (
    Breakdown, Dimensions, InvalidSettings, Length, LineItem, Plugin, Settings, UnitSystem,
    round_dp, round_money, round_to_99, testing,
)
from winfactor_pricing.money import parse, wire


def test_money_rounds_like_the_host_and_rust():
    assert round_money(Decimal("2.345")) == Decimal("2.35")
    assert round_money(Decimal("-0.125")) == Decimal("-0.13")
    assert round_dp(Decimal("1.2525"), 3) == Decimal("1.252")  # half to even
    assert str(round_dp(Decimal("1.5"), 2)) == "1.5"  # fewer decimals stay
    assert str(round_dp(Decimal("118.96"), 1)) == "119.0"
    assert round_to_99(Decimal("412.10")) == Decimal("412.99")
    assert round_to_99(Decimal("412.99")) == Decimal("412.99")
    assert wire(Decimal("140.2500")) == "140.25"
    assert wire(Decimal("1E+2")) == "100"
    assert wire(Decimal("-0.00")) == "0"


def test_decimal_text_is_strict():
    assert parse("0.075") == Decimal("0.075")
    for bad in ["1e2", "NaN", " 1", "", "1_000"]:
        with pytest.raises(ValueError):
            parse(bad)


def test_measures():
    assert Length(1524).inches() == 60 and Length(1524).feet() == 5
    assert Dimensions.mm(1200, 1400).area_m2() == Decimal("1.68")
    assert Dimensions.mm(1200, 1400).perimeter_m() == Decimal("5.2")
    assert round_dp(Dimensions.mm(914, 1219).area_sqft(), 2) == Decimal("11.99")


def test_breakdown_helpers_find_reprice_add_remove():
    request = testing.sample_request()
    breakdown = Breakdown.from_base(request.base_pricing)
    assert breakdown.subtotal() == request.base_pricing.subtotal == Decimal("3243")
    assert breakdown.reprice("template:frame:tpl_lift", lambda unit: unit * Decimal("1.1"))
    assert breakdown.item("template:frame:tpl_lift").unit_price == Decimal("341")
    assert not breakdown.reprice("nope", lambda unit: unit)
    breakdown.add(LineItem("Delivery", Decimal(1), Decimal(45), item_type="service"))
    removed = breakdown.remove("template:install:tpl_lift")
    assert removed.unit_price == 450 and breakdown.item("template:install:tpl_lift") is None
    assert breakdown.subtotal() == Decimal("3243") + Decimal("204.6") + 45 - 450
    assert request.base_pricing.item("option:handle:premium").total == 120
    assert [i.item_key for i in request.base_pricing.items_of_type("glass")] == ["component:glass:panel"]


def test_settings_are_read_strictly():
    settings = Settings.parse('{"fee": 0.1, "text": "12.50", "n": 10.0}')
    assert settings.decimal("fee", Decimal(0)) == Decimal("0.1")
    assert str(settings.decimal("text", Decimal(0))) == "12.50"
    assert str(settings.decimal("n", Decimal(0))) == "10"  # as serde reads 10.0
    settings.done()
    with pytest.raises(InvalidSettings):
        Settings.parse('{"other": 1}').done()
    with pytest.raises(InvalidSettings):
        Settings.parse('{"fee": true}').decimal("fee", Decimal(0))
    with pytest.raises(InvalidSettings):
        Settings.parse("[1]")
    assert Settings.parse("").string("missing", "x") == "x"


class Delivery(Plugin):
    def settings(self, settings):
        fee = settings.decimal("fee", Decimal(95))
        settings.done()
        return fee

    def price(self, request, fee):
        return Breakdown.from_base(request.base_pricing).add(LineItem("Delivery", Decimal(1), fee))


def test_a_plugin_runs_natively_and_answers_in_the_vector_form():
    request = testing.sample_request().with_unit_system(UnitSystem.IMPERIAL)
    answer = testing.answer(Delivery(), request, {"fee": 45.5})
    assert answer["lineItems"][-1]["unitPrice"] == "45.5"
    assert answer["lineItems"][0]["sortOffset"] == 0
    assert testing.answer(Delivery(), request, {"fee": "x"}) == {"error": "invalid-settings"}
    assert testing.canonical({"b": 1, "a": "×"}) == '{"a":"×","b":1}'


def test_requests_from_events_match_the_sample():
    sample = testing.sample_request()
    event = {
        "data": {
            "context": "submission",
            "session": {"id": "cs_1", "origin": "api"},
            "template": {"id": "t", "name": "Door", "slug": "door"},
            "configuration": {"width": 1000, "height": 2000, "components": [
                {"componentId": "leaf", "width": 1000, "height": 2000,
                 "selectedOptions": [{"optionId": "handle"}]}]},
            "configHash": "h",
            "basePricing": {"currency": "EUR", "subtotal": 10.5, "lineItems": [
                {"itemKey": "template:a:t", "description": "Door", "quantity": 1,
                 "unitPrice": 10.5, "total": 10.5}]},
        }
    }
    request = testing.request_from_event(event)
    assert request.configuration.size.area_m2() == 2
    assert request.configuration.components[0].has_option("handle")
    assert request.base_pricing.subtotal == Decimal("10.5")
    assert request.context.value == "submission" and sample.context.value == "live"
