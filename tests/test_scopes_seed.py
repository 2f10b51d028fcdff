"""The scopes seed (what dbt checks role scopes against) and the API's known
scopes (what the keys CLI accepts) are the same list."""

from __future__ import annotations

import csv
from pathlib import Path

from api.keystore import KNOWN_SCOPES

SEED = Path(__file__).resolve().parent.parent / "seeds" / "scopes.csv"


def test_seed_lists_exactly_the_api_scopes() -> None:
    with SEED.open(encoding="utf-8", newline="") as handle:
        seeded = sorted(row["scope"] for row in csv.DictReader(handle))
    assert seeded == sorted(KNOWN_SCOPES) == ["analytics:read", "members:read"]
