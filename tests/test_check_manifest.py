"""scripts/check_manifest.py flags each rule it promises to enforce."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import check_manifest
from check_manifest import violations


def model(name: str, path: str, deps: list[str], **extra: object) -> dict:
    return {
        "resource_type": "model",
        "name": name,
        "original_file_path": path,
        "depends_on": {"nodes": deps},
        "description": "A model.",
        "columns": {"id": {"description": "The id."}},
        "constraints": [],
        "config": {"contract": {"enforced": False}},
        **extra,
    }


def grain_test(model_key: str) -> dict:
    return {
        "resource_type": "test",
        "test_metadata": {"name": "unique_combination"},
        "depends_on": {"nodes": [model_key]},
    }


def test_a_clean_project_passes() -> None:
    manifest = {
        "nodes": {
            "model.p.stg_a": model("stg_a", "models/staging/stg_a.sql", ["source.p.raw.a"]),
            "model.p.mart": model("mart", "models/marts/mart.sql", ["model.p.stg_a"]),
            "test.p.1": grain_test("model.p.stg_a"),
            "test.p.2": grain_test("model.p.mart"),
        }
    }
    assert violations(manifest) == []


def test_each_rule_is_reported() -> None:
    manifest = {
        "nodes": {
            "model.p.mart": model(
                "mart",
                "models/marts/mart.sql",
                ["source.p.raw.a"],
                description="",
                columns={"id": {"description": ""}},
            ),
        }
    }
    assert violations(manifest) == [
        "mart: reads a source outside models/staging/",
        "mart: no description",
        "mart.id: no description",
        "mart: no grain test (unique_combination, unique or enforced primary_key)",
    ]


def test_a_mart_may_read_raw_when_its_yaml_says_why() -> None:
    def manifest(meta: dict) -> dict:
        config = {"contract": {"enforced": False}, "meta": meta}
        mart = model("mart", "models/marts/mart.sql", ["source.p.raw.a"], config=config)
        return {"nodes": {"model.p.mart": mart, "test.p.1": grain_test("model.p.mart")}}

    assert violations(manifest({"reads_raw_because": "rows staging cannot hold"})) == []
    assert violations(manifest({"reads_raw_because": " "})) == [
        "mart: reads a source outside models/staging/"
    ]


def test_an_enforced_primary_key_counts_as_a_grain_test() -> None:
    mart = model(
        "mart",
        "models/marts/mart.sql",
        [],
        constraints=[{"type": "primary_key", "columns": ["id"]}],
        config={"contract": {"enforced": True}},
    )
    assert violations({"nodes": {"model.p.mart": mart}}) == []


def test_a_blank_description_is_no_description() -> None:
    mart = model(
        "mart",
        "models/marts/mart.sql",
        [],
        description=" \n",
        columns={"id": {"description": "  "}, "day": {"description": "The UTC day."}},
    )
    assert violations({"nodes": {"model.p.mart": mart, "test.p.1": grain_test("model.p.mart")}}) == [
        "mart: no description",
        "mart.id: no description",
    ]


def test_a_primary_key_that_is_not_enforced_is_no_grain_test() -> None:
    # dbt only creates the constraint when the contract is enforced: otherwise nothing checks the grain
    mart = model(
        "mart",
        "models/marts/mart.sql",
        [],
        constraints=[{"type": "primary_key", "columns": ["id"]}],
        config={"contract": {"enforced": False}},
    )
    assert violations({"nodes": {"model.p.mart": mart}}) == [
        "mart: no grain test (unique_combination, unique or enforced primary_key)"
    ]


def test_the_command_exits_1_listing_every_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # what `make test-dbt` runs: a problem must fail it, not only be printed
    manifest = tmp_path / "manifest.json"
    mart = model("mart", "models/marts/mart.sql", [], columns={"id": {"description": ""}})
    manifest.write_text(json.dumps({"nodes": {"model.p.mart": mart, "test.p.1": grain_test("model.p.mart")}}))
    monkeypatch.setattr(check_manifest, "MANIFEST", manifest)
    assert check_manifest.main() == 1
    out, err = capsys.readouterr()
    assert err == "manifest check: mart.id: no description\n"
    assert out == "manifest check: 1 models, 1 problems\n"
    manifest.write_text(
        json.dumps(
            {
                "nodes": {
                    "model.p.mart": model("mart", "models/marts/mart.sql", []),
                    "test.p.1": grain_test("model.p.mart"),
                }
            }
        )
    )
    assert check_manifest.main() == 0
    monkeypatch.setattr(check_manifest, "MANIFEST", tmp_path / "missing.json")
    assert check_manifest.main() == 2


def test_every_column_the_warehouse_holds_is_documented_and_every_documented_one_exists() -> None:
    # `check_manifest.py --columns` after the build: staging views, the quarantine and raw have no contract
    staged = model(
        "stg_events", "models/staging/stg_events.sql", ["source.p.product.events"], schema="staging"
    )
    staged["columns"] = {"event_id": {"description": "The id."}, "renamed_away": {"description": "Gone."}}
    source = {
        "source_name": "product",
        "name": "events",
        "schema": "raw",
        "identifier": "events",
        "columns": {"event_id": {"description": "The id."}},
    }
    seed = {"resource_type": "seed", "name": "scopes", "schema": "staging", "columns": {"scope": {}}}
    manifest = {
        "nodes": {"model.p.stg_events": staged, "seed.p.scopes": seed},
        "sources": {"source.p.product.events": source},
    }
    built = {
        ("staging", "stg_events"): {"event_id", "is_valid"},
        ("raw", "events"): {"event_id", "_loaded_at"},
        ("staging", "scopes"): {"scope", "description"},
    }
    assert check_manifest.column_gaps(manifest, built) == [
        "scopes.description: in the table, not documented",
        "source product.events._loaded_at: in the table, not documented",
        "stg_events.is_valid: in the table, not documented",
        "stg_events.renamed_away: documented, not in the table",
    ]
    built = {
        ("staging", "stg_events"): {"event_id", "renamed_away"},
        ("raw", "events"): {"event_id"},
        ("staging", "scopes"): {"scope"},
    }
    assert check_manifest.column_gaps(manifest, built) == []
    # an ephemeral model is no relation to compare
    inlined = model("int_events", "models/intermediate/int_events.sql", [], schema="staging")
    inlined["config"] = {"materialized": "ephemeral"}
    manifest["nodes"]["model.p.int_events"] = inlined
    assert check_manifest.column_gaps(manifest, built) == []
    # a model under an alias is its alias's table; one that was never built is named, not skipped
    staged["alias"] = "events_staged"
    assert check_manifest.column_gaps(manifest, built) == [
        "stg_events: no table or view staging.events_staged to compare its columns with"
    ]
