"""What the host asks: the `pricing.calculated` data as plain Python values."""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum
from typing import Any, Iterator, Optional

from .measure import Dimensions


class Context(Enum):
    """Why the price is asked for."""

    LIVE = "live"
    SUBMISSION = "submission"
    AUTOFILL = "autofill"


class UnitSystem(Enum):
    """How the organisation measures."""

    METRIC = "metric"
    IMPERIAL = "imperial"


@dataclass(frozen=True)
class Organization:
    """The organisation the plugin belongs to."""

    id: str
    name: str
    locale: str
    currency: str
    unit_system: UnitSystem


@dataclass(frozen=True)
class Session:
    """The configuration session."""

    id: str
    origin: str


@dataclass(frozen=True)
class Template:
    """The product template configured."""

    id: str
    name: str
    slug: str


@dataclass(frozen=True)
class Component:
    """One configured part."""

    component_id: str
    size: Dimensions
    selected_options: tuple[str, ...] = ()

    def has_option(self, option_id: str) -> bool:
        """Whether `option_id` is chosen on this part."""
        return option_id in self.selected_options


@dataclass(frozen=True)
class Configuration:
    """The canonical configuration (the one `config_hash` identifies)."""

    size: Dimensions
    components: tuple[Component, ...] = ()
    inside_color_id: Optional[str] = None
    outside_color_id: Optional[str] = None


@dataclass(frozen=True)
class BaseItem:
    """A row of the platform's base pricing."""

    item_key: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal
    item_type: Optional[str] = None
    sort_offset: int = 0


@dataclass(frozen=True)
class BasePricing:
    """The platform's base pricing, every line item included."""

    currency: str
    subtotal: Decimal
    line_items: tuple[BaseItem, ...] = ()

    def item(self, item_key: str) -> Optional[BaseItem]:
        """The base item with this key."""
        return next((i for i in self.line_items if i.item_key == item_key), None)

    def items_of_type(self, item_type: str) -> Iterator[BaseItem]:
        """The base items of one type (`glass`, `labor`, …)."""
        return (i for i in self.line_items if i.item_type == item_type)


@dataclass(frozen=True)
class Request:
    """Everything the host knows about the price asked for."""

    context: Context
    organization: Organization
    session: Session
    template: Template
    configuration: Configuration
    config_hash: str
    base_pricing: BasePricing
    submission: Any = field(default=None)

    def with_context(self, context: Context) -> "Request":
        """The same request in another context."""
        return replace(self, context=context)

    def with_unit_system(self, unit_system: UnitSystem) -> "Request":
        """The same request for an organisation measuring in `unit_system`."""
        return replace(self, organization=replace(self.organization, unit_system=unit_system))
