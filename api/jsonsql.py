"""Long report lists written as JSON text by the warehouse.

A report's day rows (SMS and phone ``rows``, voice ``sttRows`` and
``ttsRows``) run to thousands of objects over a long range. Fetching them as
Python rows, rounding, sorting and encoding them costs several times the
statement itself, so the statement writes each list as one JSON text
(``json_array``) and the body carries it as ``api.jsonenc.RawJSON``.

The text is exactly what ``api.jsonenc.encode`` would write for the same
objects: compact (no spaces), keys in the order given, strings escaped as
PostgreSQL's ``to_json`` does (``"``, ``\\``, ``\\b \\f \\n \\r \\t``, other
control characters as ``\\u00xx``, everything else as it is, the same set
Python's ``json`` escapes with ``ensure_ascii=False``), counts as integers,
decimals rounded half up and written without trailing zeros (``trim_scale``,
PostgreSQL 13 and later), dates as ``YYYY-MM-DD``. Text is ordered by its
UTF-8 bytes (``convert_to``), which is Unicode code-point order, as Python
sorts strings, whatever the database's encoding and collation; nulls last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TEXT = "text"
DATE = "date"
COUNT = "count"
DECIMAL = "decimal"  # rounded half up to ``places`` (as ``api.jsonenc.rounded``)


@dataclass(frozen=True)
class Field:
    key: str  # the JSON key (a fixed identifier, never from a request)
    column: str  # the SQL expression it comes from
    kind: str  # TEXT, DATE, COUNT or DECIMAL
    places: int = 0  # DECIMAL only


def _value_sql(field: Field) -> str:
    if field.kind in (TEXT, DATE):
        return f"coalesce(to_json({field.column})::text, 'null')"
    if field.kind == COUNT:
        return f"coalesce({field.column}, 0)::text"
    if field.kind == DECIMAL:
        return f"trim_scale(round(coalesce({field.column}, 0), {field.places}))::text"
    raise ValueError(f"unknown field kind {field.kind!r}")


def sort_key(column: str, kind: str = TEXT) -> str:
    """An ``order by`` item: text in code-point order; every item nulls last."""
    ordered = f"convert_to({column}, 'UTF8')" if kind == TEXT else column
    return f"{ordered} nulls last"


def json_array(fields: Sequence[Field], order_by: Sequence[str], where: str | None = None) -> str:
    """An aggregate expression: the rows (those that satisfy ``where``, if given) as one
    JSON array text of objects with ``fields``, ordered by ``order_by`` (``sort_key``
    items); ``[]`` when there are none."""
    parts = [f"'{{\"{fields[0].key}\":' || {_value_sql(fields[0])}"]
    parts += [f"',\"{field.key}\":' || {_value_sql(field)}" for field in fields[1:]]
    element = " || ".join(parts) + " || '}'"
    only = f" filter (where {where})" if where else ""
    return f"coalesce('[' || string_agg({element}, ',' order by {', '.join(order_by)}){only} || ']', '[]')"
