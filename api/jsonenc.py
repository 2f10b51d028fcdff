"""JSON that keeps warehouse numbers exact.

PostgreSQL ``numeric`` values arrive as ``Decimal``. They are written as JSON
number literals from their decimal digits, never through ``float``: 12.5 stays
``12.5``, 0.3 stays ``0.3`` and a credit total with 18 significant digits keeps
all of them. Trailing zeros are dropped (``1.500000`` is written ``1.5``, an
integral value as ``3``). Keys keep the order the code builds them in, which is
the documented order.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask.json.provider import DefaultJSONProvider


def decimal_literal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"cannot write {value} as JSON")
    if value.is_zero():
        return "0"
    return format(value.normalize(), "f")


def rounded(value: Decimal | int | None, places: int) -> Decimal:
    """``value`` rounded half up to ``places`` decimals (``None`` counts as zero)."""
    if value is None:
        return Decimal(0)
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def timestamp_text(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z``: ``2026-11-25T12:34:56.123456Z``."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def encode(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        return decimal_literal(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value} as JSON")
        return float.__repr__(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        members = (
            f"{json.dumps(str(key), ensure_ascii=False)}:{encode(item)}" for key, item in value.items()
        )
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode(item) for item in value) + "]"
    if isinstance(value, datetime):
        return json.dumps(timestamp_text(value))
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if isinstance(value, uuid.UUID):
        return json.dumps(str(value))
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


class ExactJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with ``encode`` for output (``loads`` is unchanged)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return encode(obj)
