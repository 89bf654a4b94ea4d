"""WinFactor pricing plugins in Python.

A pricing plugin is a WebAssembly component that receives everything `pricing.calculated`
carries and returns the full replacement breakdown. Subclass `Plugin`, end the module with
`WitWorld = component(MyPlugin)`, and build it with componentize-py::

    from decimal import Decimal
    from winfactor_pricing import Breakdown, LineItem, Plugin, component

    class Delivery(Plugin):
        def price(self, request, settings):
            breakdown = Breakdown.from_base(request.base_pricing)
            breakdown.add(LineItem("Delivery", Decimal(1), Decimal(45)))
            return breakdown

    WitWorld = component(Delivery)

Money is exact: `Decimal` everywhere, rounded as the host rounds (`round_money`). Natively
the same class is plain Python: `winfactor_pricing.testing` builds requests for pytest.
"""

from .breakdown import MAX_LINE_ITEMS, Breakdown, LineItem
from .component import component
from .log import debug, error, info, warn
from .measure import Dimensions, Length
from .money import round_dp, round_money, round_to_99, text
from .plugin import Failed, InvalidSettings, Plugin, PluginError, Settings, Unsupported
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

__all__ = [
    "MAX_LINE_ITEMS", "BaseItem", "BasePricing", "Breakdown", "Component", "Configuration",
    "Context", "Dimensions", "Failed", "InvalidSettings", "Length", "LineItem",
    "Organization", "Plugin", "PluginError", "Request", "Session", "Settings", "Template",
    "UnitSystem", "Unsupported", "component", "debug", "error", "info", "round_dp",
    "round_money", "round_to_99", "text", "warn",
]
