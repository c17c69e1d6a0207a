"""Data-quality validation (issue 4, C6): GX Core suites per channel, flags in `dq.flags`.

Import-light on purpose: `validate_loads` is resolved lazily, and GX itself (about 9 s to
import) is only imported when a validation runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from expectations.validate import validate_loads

__all__ = ["validate_loads"]


def __getattr__(name: str) -> Any:
    if name == "validate_loads":
        from expectations.validate import validate_loads

        return validate_loads
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
