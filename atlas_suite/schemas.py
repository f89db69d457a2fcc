"""The JSON Schema registry: the components of ``schemas/openapi.yaml``, by name.

The OpenAPI document is the one source of truth: the steps validate answers against its
``components/schemas`` (OpenAPI 3.1 schemas are JSON Schema draft 2020-12), the fuzzer
generates requests from its paths, and the reference server serves it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from atlas_suite import openai_types

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "schemas" / "openapi.yaml"
DOCUMENT_URI = "https://atlas-acceptance.invalid/schemas/openapi.yaml"
COMPONENTS = "#/components/schemas/"


@functools.lru_cache(maxsize=4)
def load_openapi(path: Path = OPENAPI_PATH) -> dict[str, Any]:
    """The OpenAPI document as a dict (read once; callers must not change it)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


class SchemaRegistry:
    """Loads the document once; ``validate(name, doc)`` answers readable error lines."""

    def __init__(self, path: Path = OPENAPI_PATH) -> None:
        self.document = load_openapi(path)
        self.schemas: dict[str, dict[str, Any]] = self.document["components"]["schemas"]
        # the whole document is one resource, so "#/components/schemas/x" references resolve
        resource = Resource.from_contents(self.document, DRAFT202012)
        self.registry: Registry = Registry().with_resource(DOCUMENT_URI, resource)

    def names(self) -> list[str]:
        return sorted(self.schemas)

    def validator(self, name: str) -> Draft202012Validator:
        if name not in self.schemas:
            raise KeyError(f'no schema "{name}"; known: {", ".join(self.names())}')
        root = {"$ref": f"{DOCUMENT_URI}{COMPONENTS}{name}"}
        return Draft202012Validator(root, registry=self.registry,
                                    format_checker=Draft202012Validator.FORMAT_CHECKER)

    def errors(self, name: str, document: Any) -> list[str]:
        """One line per violation ("at memory.bytes: -1 is less than the minimum of 0").

        An OpenAI shape (completion, chat completion, their chunks, the models list) is also
        validated with the official SDK's type: OpenAI-compatible means what OpenAI's own
        client accepts too (see :mod:`atlas_suite.openai_types`).
        """
        found = sorted(self.validator(name).iter_errors(document), key=lambda e: list(e.path))
        lines = [f"at {'.'.join(str(p) for p in e.path) or '(top)'}: {e.message}" for e in found]
        return lines + openai_types.errors(name, document)


@functools.lru_cache(maxsize=1)
def registry() -> SchemaRegistry:
    return SchemaRegistry()
