"""The report lines the warehouse writes as CSV text (``api.csvsql``) are exactly the bytes
Python's ``csv`` module writes for the same values, in the same order."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from api.csvsql import csv_lines
from api.jsonenc import decimal_literal, rounded
from api.jsonsql import DATE, sort_key
from tests.api.conftest import Warehouse
from tests.api.test_jsonsql import AWKWARD_TEXTS, FIELDS, SECONDS

# What RFC 4180 quotes (a comma, a quote, CR, LF, CRLF), what it leaves alone though a
# spreadsheet might not (spaces at the ends, a semicolon, a tab), and JSON's awkward names.
CSV_TEXTS = [
    "comma, inside",
    '"quoted"',
    'a "" pair',
    "line\nfeed",
    "carriage\rreturn",
    "crlf\r\nend",
    ",",
    '"',
    "  spaces at both ends  ",
    "semi;colon",
    "+1 555 0100",
    *AWKWARD_TEXTS,
]

ROWS_SQL = """
select
    {lines} as lines
from (
    select
        case when ordinality %% 5 = 0 then null else %(day)s::date + (ordinality::int %% 3) end as day,
        name,
        case when ordinality %% 7 = 0 then null else (ordinality * 1000000000000)::numeric end as n,
        seconds
    from unnest(%(names)s::text[], %(seconds)s::numeric[]) with ordinality as t (name, seconds)
    where ordinality <= %(count)s
) as rows
"""


def csv_cell(value: Any) -> str:
    """A value as this suite hands it to ``csv.writer``: the JSON body's literal text."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_literal(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _python_lines(names: list[str | None]) -> str:
    rows = []
    for index, name in enumerate(names, start=1):
        day = None if index % 5 == 0 else date(2024, 2, 28) + timedelta(days=index % 3)
        count = None if index % 7 == 0 else index * 1000000000000
        seconds = rounded(SECONDS[index % len(SECONDS)], 3)
        rows.append((day, name, count, seconds))
    rows.sort(key=lambda row: (row[0] is None, row[0] or date.min, row[1] is None, row[1] or ""))
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([csv_cell(value) for value in row] for row in rows)
    return out.getvalue()


def _warehouse_lines(warehouse: Warehouse, names: list[str | None]) -> str:
    lines = csv_lines(FIELDS, (sort_key("day", DATE), sort_key("name")))
    seconds = [SECONDS[index % len(SECONDS)] for index in range(1, len(names) + 1)]
    with warehouse.connect() as conn:
        (text,) = conn.execute(
            ROWS_SQL.format(lines=lines),
            {"day": "2024-02-28", "names": names, "seconds": seconds, "count": len(names)},
        ).fetchone()
    return text


def test_warehouse_lines_are_the_bytes_python_csv_writes(warehouse: Warehouse) -> None:
    text = _warehouse_lines(warehouse, CSV_TEXTS)
    assert text == _python_lines(CSV_TEXTS)
    # and they read back as the values (a null and an empty text both read as "")
    read = list(csv.reader(io.StringIO(text, newline="")))
    assert sorted(row[1] for row in read) == sorted(name or "" for name in CSV_TEXTS)
    assert '"comma, inside"' in text and '"a """" pair"' in text and '"crlf\r\nend"' in text
    assert ",  spaces at both ends  ," in text  # not quoted: RFC 4180 keeps spaces as they are


def test_no_rows_is_no_text(warehouse: Warehouse) -> None:
    lines = csv_lines(FIELDS, (sort_key("day", DATE),))
    with warehouse.connect() as conn:
        (text,) = conn.execute(
            ROWS_SQL.format(lines=lines), {"day": "2024-02-28", "names": ["x"], "seconds": [1], "count": 0}
        ).fetchone()
    assert text == ""
