"""Lengths and areas from the configuration's whole millimetres, exactly where decimal
arithmetic allows (metres), to 28 significant digits otherwise (inches, feet)."""

from dataclasses import dataclass
from decimal import Context, Decimal

_MM_PER_INCH = Decimal("25.4")
# Rust's Decimal carries 28 digits: inches and feet are computed to the same width.
_DIGITS = Context(prec=28)


@dataclass(frozen=True, order=True)
class Length:
    """A length in whole millimetres.

    >>> Length(1524).m(), Length(1524).inches(), Length(1524).feet()
    (Decimal('1.524'), Decimal('60'), Decimal('5'))
    """

    mm: int

    def m(self) -> Decimal:
        """Metres, exactly."""
        return Decimal(self.mm).scaleb(-3)

    def inches(self) -> Decimal:
        """Inches (1 in = 25.4 mm)."""
        return _DIGITS.divide(Decimal(self.mm), _MM_PER_INCH).normalize(_DIGITS)

    def feet(self) -> Decimal:
        """Feet (12 in)."""
        return _DIGITS.divide(self.inches(), Decimal(12)).normalize(_DIGITS)


@dataclass(frozen=True)
class Dimensions:
    """Width × height of a configuration or of one of its parts."""

    width: Length
    height: Length

    @classmethod
    def mm(cls, width: int, height: int) -> "Dimensions":
        """From millimetres."""
        return cls(Length(width), Length(height))

    def area_m2(self) -> Decimal:
        """Square metres, exactly.

        >>> Dimensions.mm(1200, 1400).area_m2()
        Decimal('1.68')
        """
        return self.width.m() * self.height.m()

    def area_sqft(self) -> Decimal:
        """Square feet."""
        return _DIGITS.multiply(self.width.feet(), self.height.feet()).normalize(_DIGITS)

    def perimeter_m(self) -> Decimal:
        """Perimeter in metres, exactly."""
        return (self.width.m() + self.height.m()) * 2
