"""Exact money: `Decimal` everywhere, rounding as the host and the Rust SDK round.

Amounts travel as decimal text (`"140.25"`), never floats. `round_money` rounds to cents
half away from zero (how the host computes totals); `round_dp` rounds half to even and
leaves a number with fewer decimals as it is (as Rust's `Decimal::round_dp` does).
"""

from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal

# Wide enough that normalising a 28-digit amount never rounds it.
_WIDE = Context(prec=60)


def round_dp(amount: Decimal, dp: int, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """`amount` to at most `dp` decimals (half to even by default); fewer stay as they are.

    >>> round_dp(Decimal("2.345"), 2), round_dp(Decimal("1.5"), 2)
    (Decimal('2.34'), Decimal('1.5'))
    """
    if -amount.as_tuple().exponent <= dp:
        return amount
    return amount.quantize(Decimal(1).scaleb(-dp), rounding=rounding, context=_WIDE)


def round_money(amount: Decimal) -> Decimal:
    """Cents, half away from zero (how the host rounds totals).

    >>> round_money(Decimal("2.345"))
    Decimal('2.35')
    """
    return round_dp(amount, 2, ROUND_HALF_UP)


def round_to_99(amount: Decimal) -> Decimal:
    """Up to the next price ending in .99 (charm pricing); .99 stays.

    >>> round_to_99(Decimal("412.10")), round_to_99(Decimal("413.00"))
    (Decimal('412.99'), Decimal('413.99'))
    """
    return round_money(amount).to_integral_value(rounding=ROUND_FLOOR) + Decimal("0.99")


def text(amount: Decimal) -> str:
    """How the amount reads in a description: its decimals kept, never an exponent."""
    return format(amount, "f")


def wire(amount: Decimal) -> str:
    """The WIT `decimal` text the host accepts: no trailing zeros, exponent or `-0`."""
    if amount.is_zero():
        return "0"
    return format(amount.normalize(_WIDE), "f")


def parse(value: str) -> Decimal:
    """A WIT `decimal` (or any plain decimal text) as a `Decimal`; `ValueError` otherwise."""
    if not isinstance(value, str) or not value or value.strip() != value:
        raise ValueError(f"`{value}` is not a decimal")
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise ValueError(f"`{value}` is not a decimal") from None
    if not number.is_finite() or any(c in value for c in "eEnNiI_"):
        raise ValueError(f"`{value}` is not a decimal")
    return number
