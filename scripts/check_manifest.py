"""Project rules over target/manifest.json (run after `dbt parse`), the few
checks of dbt-project-evaluator we rely on:

- a model reads a source() only in models/staging/, unless its YAML says why
  it must (``config: meta: reads_raw_because: <reason>``);
- every model, and every column it documents, has a description;
- every model has a grain test: a unique_combination or unique test, or an
  enforced primary_key constraint.

Exits 1 listing every violation.
"""

from __future__ import annotations

import json
import sys
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


def main() -> int:
    if not MANIFEST.exists():
        print(f"{MANIFEST} is missing: run `dbt parse` first", file=sys.stderr)
        return 2
    problems = violations(json.loads(MANIFEST.read_text()))
    for problem in problems:
        print(f"manifest check: {problem}", file=sys.stderr)
    models = sum(
        1 for n in json.loads(MANIFEST.read_text())["nodes"].values() if n["resource_type"] == "model"
    )
    print(f"manifest check: {models} models, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
