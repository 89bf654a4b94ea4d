"""Diagnostics kept with the run (the host's bounded log); natively they go to stderr."""

import sys

try:  # Present only inside the component (componentize-py generates it).
    from wit_world.imports import log as _wit_log
except ImportError:  # pragma: no cover - natively
    _wit_log = None


def _write(level: str, message: str) -> None:
    if _wit_log is not None:
        _wit_log.log(getattr(_wit_log.Level, level.upper()), message)
    else:
        print(f"[{level}] {message}", file=sys.stderr)


def debug(message: str) -> None:
    """Records a debug message."""
    _write("debug", message)


def info(message: str) -> None:
    """Records an informational message."""
    _write("info", message)


def warn(message: str) -> None:
    """Records a warning."""
    _write("warn", message)


def error(message: str) -> None:
    """Records an error."""
    _write("error", message)
