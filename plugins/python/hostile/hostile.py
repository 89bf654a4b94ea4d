"""A hostile Python plugin for the host's tests: what it does is chosen by its settings'
`do` — `spin` (an endless loop), `grow` (memory until the cap), `raise` (an uncaught
exception), `recurse` (unbounded recursion), `flood` (an answer far past the output cap),
`chatter` (a log flood)."""

from decimal import Decimal

from winfactor_pricing import Breakdown, LineItem, Plugin, component, info


def _recurse(depth):
    return _recurse(depth + 1) + 1


class Hostile(Plugin):
    def settings(self, settings):
        return settings.string("do", "spin")

    def price(self, request, do):
        if do == "spin":
            while True:
                pass
        if do == "grow":
            hoard = []
            while True:
                hoard.append(bytearray(1 << 20))
        if do == "raise":
            raise RuntimeError("an uncaught exception")
        if do == "recurse":
            _recurse(0)  # Python's own recursion limit answers: a `failed` plugin error
        if do == "flood":
            text = "x" * 400_000
            return Breakdown([LineItem(text, Decimal(1), Decimal(1)) for _ in range(4)])
        if do == "chatter":
            while True:
                info("chatter " * 50)
        return Breakdown.from_base(request.base_pricing)


WitWorld = component(Hostile)
