"""schemas/openapi.yaml is a valid OpenAPI 3.1 document that covers every route the suite uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from behave.parser import parse_file
from openapi_spec_validator import validate

from atlas_suite import routes
from atlas_suite.schemas import load_openapi

ROOT = Path(__file__).resolve().parents[2]
DOC = load_openapi()
METHODS = ("get", "post", "put", "delete", "patch")
PATH = re.compile(r'"(/(?:v\d+|health|metrics)[^"\s]*)"')
METHOD = re.compile(r"\b(GET|POST|PUT|DELETE|PATCH)\b")
UNKNOWN_EXPECTED = re.compile(r"status is (404|405|404 or 405)\b")


def _documented() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in DOC["paths"].items()
            for method in item if method in METHODS}


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOC["openapi"].startswith("3.1")
    validate(DOC)


@pytest.mark.parametrize("route", routes.ROUTES + routes.OPERATIONS,
                         ids=lambda r: f"{r.method} {r.path}")
def test_every_route_of_the_route_table_is_documented(route: routes.Route) -> None:
    assert (route.method, route.path) in _documented()


def test_the_document_has_no_route_the_route_table_lacks() -> None:
    table = {(r.method, r.path) for r in routes.ROUTES + routes.OPERATIONS}
    assert _documented() - table == set()


def _feature_calls() -> list[tuple[str, str | None, str]]:
    """(feature:scenario, method or None, path) of every literal path a step sends to, except
    in scenarios that expect the route to be unknown (404) or the method refused (405), and
    the route table's own unknown route."""
    calls = []
    for feature_file in sorted((ROOT / "features").rglob("*.feature")):
        feature = parse_file(str(feature_file))
        for scenario in feature.walk_scenarios():
            names = [step.name for step in scenario.steps]
            if any(UNKNOWN_EXPECTED.search(name) for name in names):
                continue
            for name in names:
                for path in set(PATH.findall(name)) - {routes.UNKNOWN}:
                    method = METHOD.search(name)
                    where = f"{feature_file.name}: {scenario.name}"
                    calls.append((where, method.group(1) if method else None, path))
    return calls


def test_the_features_call_paths_literally() -> None:
    assert len(_feature_calls()) > 50  # the scan would silently pass if the regex rotted


def test_every_path_a_feature_sends_to_is_documented() -> None:
    documented = _documented()
    paths = {path for _, path in documented}
    missing = [(where, method, path) for where, method, path in _feature_calls()
               if (method and (method, path) not in documented) or path not in paths]
    assert missing == []


def test_every_v1_route_is_guarded_by_the_keys_and_answers_401_in_the_envelope() -> None:
    for path, item in DOC["paths"].items():
        for method, operation in ((m, o) for m, o in item.items() if m in METHODS):
            if not path.startswith("/v1/"):
                continue
            assert "security" not in operation, f"{method} {path} overrides the keys"
            assert "401" in operation["responses"], f"{method} {path}"


def test_health_is_public() -> None:
    assert DOC["paths"]["/health"]["get"]["security"] == []


def test_every_error_answer_is_the_error_envelope() -> None:
    responses = DOC["components"]["responses"]
    for path, item in DOC["paths"].items():
        for method, operation in ((m, o) for m, o in item.items() if m in METHODS):
            for status, answer in operation["responses"].items():
                if int(status) < 400:
                    continue
                answer = responses[answer["$ref"].rsplit("/", 1)[1]] if "$ref" in answer else answer
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/error"}, f"{method} {path} {status}"


def test_every_atlas_route_may_answer_404_for_a_server_without_atlas() -> None:
    for route in routes.ROUTES:
        if route.atlas:
            assert "404" in DOC["paths"][route.path][route.method.lower()]["responses"]


def test_the_rate_limit_answer_declares_its_headers() -> None:
    headers = DOC["components"]["responses"]["TooManyRequests"]["headers"]
    assert set(headers) == {"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                            "X-RateLimit-Reset"}


def test_the_memory_routes_take_the_same_names_as_the_reference_server() -> None:
    from atlas_reference.names import validate_memory_filename
    from atlas_suite.schemas import registry

    for name in ("a.atlas", "a..b.atlas", "x/y.atlas", "-a.atlas", "a.atlas.tmp", "a" * 130,
                 "Z_9-.q.atlas", ".atlas", "a.-.atlas"):
        schema_ok = registry().errors("memory_name", name) == []
        assert schema_ok == (validate_memory_filename(name) is None), name
