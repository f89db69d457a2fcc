"""The helpers behind the edge scenarios of errors and security, checked without a server."""

from __future__ import annotations

import json

import pytest

from atlas_suite.faults import (
    V1_ROUTES,
    HealthWatch,
    countdown_problems,
    padded_json,
)
from atlas_suite.http import Exchange
from atlas_suite.security import (
    Credential,
    CredentialAttempt,
    credentials,
    every_route,
    find_route,
    refused_wrongly,
    unrefused,
)

ENVELOPE_401 = json.dumps({"error": {"message": "no key", "type": "authentication_error",
                                     "code": 401, "param": None}})


def test_padded_json_is_exactly_the_size_and_still_valid() -> None:
    body = padded_json({"prompt": "Hi", "max_tokens": 1}, 8 * 1024 * 1024)
    assert len(body) == 8 * 1024 * 1024
    assert json.loads(body) == {"prompt": "Hi", "max_tokens": 1}
    assert len(padded_json({}, 8 * 1024 * 1024 + 1)) == 8 * 1024 * 1024 + 1


def test_padded_json_refuses_a_size_below_the_document() -> None:
    with pytest.raises(ValueError):
        padded_json({"prompt": "a long prompt"}, 5)


def _answer(status: int, remaining: str | None = None) -> Exchange:
    headers = {} if remaining is None else {"x-ratelimit-remaining": remaining}
    return Exchange("GET", "/v1/models", status, headers, "{}")


def test_countdown_accepts_the_right_count_and_answers_without_the_header() -> None:
    right = [_answer(200, "2"), _answer(200, "1"), _answer(200, "0"), _answer(429, "0")]
    assert countdown_problems(right, 3) == []
    assert countdown_problems([_answer(200), _answer(200)], 3) == []


def test_countdown_finds_a_count_taken_before_the_request() -> None:
    off_by_one = [_answer(200, "3"), _answer(200, "2"), _answer(200, "1")]
    problems = countdown_problems(off_by_one, 3)
    assert len(problems) == 3
    assert "expected 2" in problems[0]


def test_credentials_cover_both_headers_and_near_misses() -> None:
    found = credentials("secret-key")
    wrong = [c for c in found if not c.right]
    right = [c for c in found if c.right]
    assert {tuple(c.headers) for c in right} == {("Authorization",), ("X-Api-Key",)}
    offered = [v for c in wrong for v in c.headers.values()]
    assert "Bearer secret-ke" in offered and "secret-key0" in offered
    assert any(not c.headers for c in wrong)  # no key at all
    assert all(v not in ("secret-key", "Bearer secret-key") for v in offered)


def _attempt(right: bool, status: int, text: str = ENVELOPE_401) -> CredentialAttempt:
    credential = Credential("a key", {}, right)
    return CredentialAttempt(credential, find_route("GET", "/v1/models"),
                             Exchange("GET", "/v1/models", status, {}, text))


def test_unrefused_wants_a_401_envelope_for_each_wrong_key() -> None:
    assert unrefused([_attempt(False, 401), _attempt(True, 200)]) == []
    assert len(unrefused([_attempt(False, 200, "{}")])) == 1
    assert len(unrefused([_attempt(False, 401, "Unauthorized")])) == 1
    wrong_type = ENVELOPE_401.replace("authentication_error", "invalid_request_error")
    assert len(unrefused([_attempt(False, 401, wrong_type)])) == 1


def test_refused_wrongly_flags_the_right_key_refused() -> None:
    assert refused_wrongly([_attempt(True, 400, "{}"), _attempt(False, 401)]) == []
    assert len(refused_wrongly([_attempt(True, 401)])) == 1


def test_every_route_leaves_atlas_out_of_a_plain_server() -> None:
    plain = every_route(atlas=False)
    assert all(not r.path.startswith("/v1/atlas/") for r in plain)
    assert len(every_route(atlas=True)) > len(plain)
    assert {r.path for r in V1_ROUTES if r.atlas} >= {"/v1/atlas/memory/delete",
                                                      "/v1/atlas/memory/load"}


def test_health_watch_problems() -> None:
    assert HealthWatch(answers=[200, 200]).problems() == []
    assert HealthWatch(answers=[200, 503]).problems() == ["/health answered 503"]
    assert HealthWatch().problems() == ["/health was never probed"]


def test_request_or_silence_records_a_request_held_for_ever() -> None:
    import socket

    from atlas_suite.faults import NO_ANSWER, request_or_silence
    from atlas_suite.http import ApiClient

    with socket.socket() as listener:  # accepts the connection, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = ApiClient(f"http://127.0.0.1:{listener.getsockname()[1]}")
        exchange = request_or_silence(client, "POST", "/v1/completions", {"prompt": "Hi"},
                                      timeout_s=0.5)
    assert exchange.status == NO_ANSWER
    assert "no answer within" in exchange.text
    assert client.last is exchange


def test_a_refusal_is_asked_only_where_the_declared_queue_must_overflow() -> None:
    from atlas_suite.faults import admission_overflow_unknown

    assert admission_overflow_unknown({"limits": {"admission_queue": 4}}, 20) == ""
    assert "does not declare" in admission_overflow_unknown({"limits": {}}, 20)
    assert "holds 19 requests" in admission_overflow_unknown(
        {"limits": {"admission_queue": 19}}, 20)
