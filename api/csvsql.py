"""Report CSV lines written by the warehouse (the CSV twin of ``api.jsonsql``).

A year of a report's finest rows runs to thousands of lines (the AI report:
one per day, provider, model and type). Fetching them as Python rows,
rounding, sorting and writing them with ``csv`` costs tens of times the
statement, so the statement writes the lines as one text (``csv_lines``) and
the response is the header plus that text.

The text is exactly what Python's ``csv.writer`` (``QUOTE_MINIMAL``, lines
ending ``\\r\\n``) writes for the same values: a field holding a comma, a
quote, a CR or an LF is quoted, its quotes doubled; every other field is as
it is. Values are written as the JSON lists write them (``api.jsonsql``):
counts as integers, decimals rounded half up with no trailing zeros, dates
``YYYY-MM-DD``; a null is an empty field. Lines are ordered as
``api.jsonsql.sort_key`` orders (text by code point, nulls last).
"""

from __future__ import annotations

from collections.abc import Sequence

from api.jsonsql import COUNT, DATE, DECIMAL, TEXT, Field

# A field RFC 4180 quotes (PostgreSQL's regular expressions read \r and \n in brackets).
_NEEDS_QUOTES = r"""'[",\r\n]'"""


def _field_sql(field: Field) -> str:
    column = field.column
    if field.kind == TEXT:
        quoted = f"""'"' || replace({column}, '"', '""') || '"'"""
        return f"coalesce(case when {column} ~ {_NEEDS_QUOTES} then {quoted} else {column} end, '')"
    if field.kind == DATE:
        return f"coalesce(to_char({column}, 'YYYY-MM-DD'), '')"
    if field.kind == COUNT:
        return f"coalesce({column}::text, '')"
    if field.kind == DECIMAL:
        return f"coalesce(trim_scale(round({column}, {field.places}))::text, '')"
    raise ValueError(f"unknown field kind {field.kind!r}")


def csv_lines(fields: Sequence[Field], order_by: Sequence[str]) -> str:
    """An aggregate expression: the rows as CSV lines of ``fields`` (their keys unused: the
    header names the columns), each ending ``\\r\\n``, ordered by ``order_by``
    (``api.jsonsql.sort_key`` items); ``''`` when there are none."""
    line = " || ',' || ".join(_field_sql(field) for field in fields)
    return f"coalesce(string_agg({line} || chr(13) || chr(10), '' order by {', '.join(order_by)}), '')"
