"""The JSON Schema registry: every ``schemas/*.schema.json``, cross-referenced by file name."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
SUFFIX = ".schema.json"


class SchemaRegistry:
    """Loads the schemas once; ``validate(name, doc)`` answers readable error lines."""

    def __init__(self, schema_dir: Path = SCHEMA_DIR) -> None:
        self.schemas: dict[str, dict[str, Any]] = {}
        resources = []
        for path in sorted(schema_dir.glob(f"*{SUFFIX}")):
            schema = json.loads(path.read_text(encoding="utf-8"))
            self.schemas[path.name[: -len(SUFFIX)]] = schema
            resources.append((schema["$id"], Resource.from_contents(schema, DRAFT202012)))
        self.registry: Registry = Registry().with_resources(resources)

    def names(self) -> list[str]:
        return sorted(self.schemas)

    def validator(self, name: str) -> Draft202012Validator:
        if name not in self.schemas:
            raise KeyError(f'no schema "{name}"; known: {", ".join(self.names())}')
        return Draft202012Validator(self.schemas[name], registry=self.registry,
                                    format_checker=Draft202012Validator.FORMAT_CHECKER)

    def errors(self, name: str, document: Any) -> list[str]:
        """One line per violation ("at memory.bytes: -1 is less than the minimum of 0")."""
        found = sorted(self.validator(name).iter_errors(document), key=lambda e: list(e.path))
        return [f"at {'.'.join(str(p) for p in e.path) or '(top)'}: {e.message}" for e in found]


@functools.lru_cache(maxsize=1)
def registry() -> SchemaRegistry:
    return SchemaRegistry()
