"""The plugin protocol, its typed errors, and settings read as strictly as the Rust SDK's
serde reads them (unknown keys and wrong types are `InvalidSettings`)."""

import json
from decimal import Decimal
from typing import Any, Callable, Generic, TypeVar

from .breakdown import Breakdown
from .money import parse
from .request import Request

S = TypeVar("S")


class PluginError(Exception):
    """Why a plugin declines to price; the customer then sees base pricing."""

    kind = "failed"

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


class InvalidSettings(PluginError):
    """The organisation's settings are unusable; the text says how."""

    kind = "invalid-settings"


class Unsupported(PluginError):
    """This request is outside what the plugin prices."""

    kind = "unsupported"


class Failed(PluginError):
    """Anything else."""

    kind = "failed"


def _number(value: Any, name: str) -> Decimal:
    # As serde reads a Rust `Decimal`: integers exactly, JSON fractions through their
    # shortest double (what `f64::to_string` prints), strings as decimal text.
    if isinstance(value, bool):
        raise InvalidSettings(f"`{name}`: expected a decimal, got {json.dumps(value)}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    if isinstance(value, str):
        try:
            return parse(value)
        except ValueError:
            pass
    raise InvalidSettings(f"`{name}`: expected a decimal, got {json.dumps(value)}")


class Settings:
    """The organisation's settings (a JSON object), read field by field; `done()` refuses
    fields nobody read.

    >>> s = Settings.parse('{"fee": 95, "types": ["labor"]}')
    >>> s.decimal("fee", Decimal(0)), s.strings("types", []), s.done()
    (Decimal('95'), ['labor'], None)
    """

    def __init__(self, values: dict):
        self._values = values
        self._read: set[str] = set()

    @classmethod
    def parse(cls, text: str) -> "Settings":
        """Settings from JSON text (empty text is `{}`)."""
        try:
            values = json.loads(text.strip() or "{}", parse_float=float)
        except ValueError as err:
            raise InvalidSettings(f"not JSON: {err}") from None
        if not isinstance(values, dict):
            raise InvalidSettings("settings must be a JSON object")
        return cls(values)

    def _get(self, name: str) -> Any:
        self._read.add(name)
        return self._values.get(name, _MISSING)

    def decimal(self, name: str, default: Decimal) -> Decimal:
        """A decimal field."""
        value = self._get(name)
        return default if value is _MISSING else _number(value, name)

    def decimal_map(self, name: str) -> dict[str, Decimal]:
        """An object of decimals (empty when missing)."""
        value = self._get(name)
        if value is _MISSING:
            return {}
        if not isinstance(value, dict):
            raise InvalidSettings(f"`{name}`: expected an object")
        return {key: _number(v, f"{name}.{key}") for key, v in value.items()}

    def string(self, name: str, default: str) -> str:
        """A string field."""
        value = self._get(name)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            raise InvalidSettings(f"`{name}`: expected a string")
        return value

    def strings(self, name: str, default: list[str]) -> list[str]:
        """A list of strings."""
        value = self._get(name)
        if value is _MISSING:
            return list(default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidSettings(f"`{name}`: expected a list of strings")
        return value

    def records(self, name: str, read: Callable[["Settings"], S]) -> list[S]:
        """A list of objects, each read with `read` (which should end with `done()`)."""
        value = self._get(name)
        if value is _MISSING:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise InvalidSettings(f"`{name}`: expected a list of objects")
        return [read(Settings(v)) for v in value]

    def required_decimal(self, name: str) -> Decimal:
        """A decimal field that must be there."""
        value = self._get(name)
        if value is _MISSING:
            raise InvalidSettings(f"missing field `{name}`")
        return _number(value, name)

    def done(self) -> None:
        """Refuses fields that were not read (as `deny_unknown_fields` does)."""
        unknown = sorted(set(self._values) - self._read)
        if unknown:
            raise InvalidSettings(f"unknown field `{unknown[0]}`")


_MISSING = object()


class Plugin(Generic[S]):
    """A pricing plugin: read the settings once per run, then price.

    Subclass it, override `settings` (default: any object, unread) and `price`, and end
    the module with `WitWorld = component(MyPlugin)`.
    """

    def settings(self, settings: Settings) -> S:
        """The plugin's settings from the organisation's JSON; raise `InvalidSettings`."""
        return settings  # type: ignore[return-value]

    def price(self, request: Request, settings: S) -> Breakdown:
        """Prices one configuration; raise a `PluginError` to decline."""
        raise NotImplementedError

    def run(self, request: Request, settings_json: str) -> Breakdown:
        """Reads `settings_json` and prices `request`, as the host's call does."""
        return self.price(request, self.settings(Settings.parse(settings_json)))
