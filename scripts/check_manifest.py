"""Project rules over target/manifest.json (run after `dbt parse`), the few
checks of dbt-project-evaluator we rely on:

- a model reads a source() only in models/staging/, unless its YAML says why
  it must (``config: meta: reads_raw_because: <reason>``);
- every model, and every column it documents, has a description;
- every model has a grain test: a unique_combination or unique test, or an
  enforced primary_key constraint;
- with ``--columns``, after a build (``make test-dbt``): every column of each
  model's table or view, of each seed's table and of each source's raw table, as the warehouse the
  PG* variables name holds it, is documented in YAML, and every documented
  column exists (a contract enforces this for the marts; the staging models,
  the quarantine view and the sources have none).

Exits 1 listing every violation.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

MANIFEST = Path(__file__).resolve().parent.parent / "target" / "manifest.json"
GRAIN_TESTS = {"unique_combination", "unique"}


def _raw_reason(model: dict) -> str:
    """Why a model outside staging reads raw, as its YAML states it (``meta.reads_raw_because``)."""
    meta = {**(model.get("meta") or {}), **((model.get("config") or {}).get("meta") or {})}
    return str(meta.get("reads_raw_because") or "").strip()


def violations(manifest: dict) -> list[str]:
    nodes = manifest["nodes"]
    models = {key: node for key, node in nodes.items() if node["resource_type"] == "model"}
    tested: set[str] = set()
    for node in nodes.values():
        if node["resource_type"] == "test" and (node.get("test_metadata") or {}).get("name") in GRAIN_TESTS:
            tested.update(node["depends_on"]["nodes"])
    problems: list[str] = []
    for key, model in sorted(models.items()):
        name = model["name"]
        in_staging = model["original_file_path"].startswith("models/staging/")
        reads_raw = any(dep.startswith("source.") for dep in model["depends_on"]["nodes"])
        if not in_staging and reads_raw and not _raw_reason(model):
            problems.append(f"{name}: reads a source outside models/staging/")
        if not model.get("description", "").strip():
            problems.append(f"{name}: no description")
        if not model.get("columns"):
            problems.append(f"{name}: no documented columns")
        for column, spec in model.get("columns", {}).items():
            if not spec.get("description", "").strip():
                problems.append(f"{name}.{column}: no description")
        has_primary_key = any(c.get("type") == "primary_key" for c in model.get("constraints", [])) and (
            model.get("config", {}).get("contract", {}).get("enforced")
        )
        if key not in tested and not has_primary_key:
            problems.append(f"{name}: no grain test (unique_combination, unique or enforced primary_key)")
    return problems


Relation = tuple[str, str]  # (schema, table or view)


def _documented(manifest: dict) -> Iterable[tuple[str, Relation, set[str]]]:
    """Each model's, seed's and source's name as problems name it, its relation and its YAML
    columns (an ephemeral model has no relation: its columns are its callers')."""
    for node in manifest["nodes"].values():
        ephemeral = (node.get("config") or {}).get("materialized") == "ephemeral"
        if node["resource_type"] in ("model", "seed") and not ephemeral:
            yield (
                node["name"],
                (node["schema"], node.get("alias") or node["name"]),
                set(node.get("columns") or {}),
            )
    for source in manifest.get("sources", {}).values():
        name = f"source {source['source_name']}.{source['name']}"
        relation = (source["schema"], source.get("identifier") or source["name"])
        yield name, relation, set(source.get("columns") or {})


def column_gaps(manifest: dict, built: dict[Relation, set[str]]) -> list[str]:
    """Columns the warehouse holds (``built``: each relation's columns) that YAML does not
    document, and documented ones it does not hold."""
    problems: list[str] = []
    for name, relation, documented in sorted(_documented(manifest)):
        if relation not in built:
            problems.append(
                f"{name}: no table or view {relation[0]}.{relation[1]} to compare its columns with"
            )
            continue
        problems += [
            f"{name}.{column}: in the table, not documented"
            for column in sorted(built[relation] - documented)
        ]
        problems += [
            f"{name}.{column}: documented, not in the table"
            for column in sorted(documented - built[relation])
        ]
    return problems


def built_columns(manifest: dict) -> dict[Relation, set[str]]:
    """The columns of every relation in the schemas the manifest's models and sources use, as
    the warehouse holds them (connection from the PG* variables)."""
    import psycopg

    schemas = sorted({relation[0] for _, relation, _ in _documented(manifest)})
    built: dict[Relation, set[str]] = {}
    with psycopg.connect() as conn:
        rows = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where table_schema = any(%s)",
            (schemas,),
        ).fetchall()
    for schema, table, column in rows:
        built.setdefault((schema, table), set()).add(column)
    return built


def main(columns: bool = False) -> int:
    if not MANIFEST.exists():
        print(f"{MANIFEST} is missing: run `dbt parse` first", file=sys.stderr)
        return 2
    manifest = json.loads(MANIFEST.read_text())
    problems = violations(manifest)
    if columns:
        problems += column_gaps(manifest, built_columns(manifest))
    for problem in problems:
        print(f"manifest check: {problem}", file=sys.stderr)
    models = sum(1 for n in manifest["nodes"].values() if n["resource_type"] == "model")
    compared = " (the columns of models, seeds and sources compared with the warehouse's)" if columns else ""
    print(f"manifest check: {models} models{compared}, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(columns="--columns" in sys.argv[1:]))
