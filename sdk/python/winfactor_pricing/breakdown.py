"""The answer: a full replacement breakdown, with helpers to start from the base pricing
and reprice, replace, add or remove rows."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Optional

from .money import round_money
from .request import BaseItem, BasePricing

#: Most rows the host accepts in one breakdown.
MAX_LINE_ITEMS = 500


@dataclass
class LineItem:
    """One row of the answer. The host computes its total (`quantity × unit_price`, cents).

    >>> LineItem("Installation", Decimal(2), Decimal(85), item_type="labor").total()
    Decimal('170')
    """

    description: str
    quantity: Decimal
    unit_price: Decimal
    item_type: Optional[str] = None
    external_ref: Optional[str] = None
    sort_offset: int = 0
    item_key: Optional[str] = None

    @classmethod
    def from_base(cls, item: BaseItem) -> "LineItem":
        """The base item as a row replacing it, unchanged."""
        return cls(
            description=item.description,
            quantity=item.quantity,
            unit_price=item.unit_price,
            item_type=item.item_type,
            sort_offset=item.sort_offset,
            item_key=item.item_key,
        )

    def total(self) -> Decimal:
        """`quantity × unit_price`, rounded to cents, as the host will compute it."""
        return round_money(self.quantity * self.unit_price)


@dataclass
class Breakdown:
    """The full replacement breakdown a plugin returns."""

    line_items: list[LineItem] = field(default_factory=list)

    @classmethod
    def from_base(cls, base: BasePricing) -> "Breakdown":
        """Every base item, unchanged: the starting point of most plugins."""
        return cls([LineItem.from_base(item) for item in base.line_items])

    def add(self, item: LineItem) -> "Breakdown":
        """Appends a row."""
        self.line_items.append(item)
        return self

    def item(self, item_key: str) -> Optional[LineItem]:
        """The row replacing the base item `item_key`."""
        return next((i for i in self.line_items if i.item_key == item_key), None)

    def replace(self, item_key: str, item: LineItem) -> bool:
        """Replaces the row of `item_key`; returns whether it was there."""
        for index, row in enumerate(self.line_items):
            if row.item_key == item_key:
                self.line_items[index] = item
                return True
        return False

    def reprice(self, item_key: str, price: Callable[[Decimal], Decimal]) -> bool:
        """Sets a new unit price on the row of `item_key` (rounded to cents)."""
        row = self.item(item_key)
        if row is None:
            return False
        row.unit_price = round_money(price(row.unit_price))
        return True

    def reprice_all(self, price: Callable[[LineItem], Decimal]) -> "Breakdown":
        """Applies `price` to the unit price of every row (rounded to cents)."""
        for row in self.line_items:
            row.unit_price = round_money(price(row))
        return self

    def remove(self, item_key: str) -> Optional[LineItem]:
        """Removes the row of `item_key`; returns it if it was there."""
        for index, row in enumerate(self.line_items):
            if row.item_key == item_key:
                return self.line_items.pop(index)
        return None

    def subtotal(self) -> Decimal:
        """The sum of the row totals, as the host will compute it."""
        return sum((row.total() for row in self.line_items), Decimal(0))
