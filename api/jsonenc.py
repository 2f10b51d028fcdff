"""JSON that keeps warehouse numbers exact.

PostgreSQL ``numeric`` values arrive as ``Decimal``. They are written as JSON
number literals from their decimal digits, never through ``float``: 12.5 stays
``12.5``, 0.3 stays ``0.3`` and a credit total with 18 significant digits keeps
all of them. Trailing zeros are dropped (``1.500000`` is written ``1.5``, an
integral value as ``3``). Keys keep the order the code builds them in, which is
the documented order.

A ``RawJSON`` value is JSON text someone else wrote (the long lists of a
report, built by the warehouse: see ``api.jsonsql``); it is written into the
body as it is.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class RawJSON:
    """A JSON value as text, already in this module's form (compact, exact numbers)."""

    text: str

    def value(self) -> Any:
        """The value itself, numbers with a fraction as ``Decimal`` (exact, as written)."""
        return json.loads(self.text, parse_float=Decimal)


def with_values(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with each top-level ``RawJSON`` replaced by the value it holds."""
    return {key: value.value() if isinstance(value, RawJSON) else value for key, value in body.items()}


# A Decimal travels through the standard library's C encoder as a string
# wrapped in NUL characters (which the encoder always escapes, and which no
# PostgreSQL text can hold); the quotes and markers are then stripped, leaving
# the number literal. Several times faster than encoding in Python.
_DECIMAL_MARK = "\x00"
_MARKED_DECIMAL = re.compile(r'"\\u0000(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')
# A RawJSON travels the same way, as a mark no text can forge (a random word drawn for
# the encoding) and its index in the encoding's list of raw texts; all are put back in one pass.
_MARKED_RAW = re.compile(r'"\\u0000(r[0-9a-f]{16})([0-9]+)\\u0000"')


@dataclass
class _RawTexts:
    word: str = ""  # drawn with the first raw text
    texts: list[str] = field(default_factory=list)

    def mark(self, raw: RawJSON) -> str:
        if not self.word:
            self.word = "r" + secrets.token_hex(8)
        self.texts.append(raw.text)
        return f"{_DECIMAL_MARK}{self.word}{len(self.texts) - 1}{_DECIMAL_MARK}"

    def put_back(self, text: str) -> str:
        if not self.texts:
            return text
        return _MARKED_RAW.sub(self._text_for, text)

    def _text_for(self, marked: re.Match[str]) -> str:
        word, index = marked.groups()
        return self.texts[int(index)] if word == self.word else marked.group(0)


def _encode_default(value: Any, raws: _RawTexts) -> str:
    if isinstance(value, Decimal):
        return _DECIMAL_MARK + decimal_literal(value) + _DECIMAL_MARK
    if isinstance(value, datetime):
        return timestamp_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, RawJSON):
        return raws.mark(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def encode(value: Any) -> str:
    raws = _RawTexts()
    text = json.dumps(
        value,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
        default=lambda item: _encode_default(item, raws),
    )
    return raws.put_back(_MARKED_DECIMAL.sub(r"\1", text))


class ExactJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with ``encode`` for output (``loads`` is unchanged)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return encode(obj)
