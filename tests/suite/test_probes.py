"""The official-client probes as programs: their error handling, and (with a server) one call.

No fake of the server contract here: the acceptance scenarios check the contract against real
servers. Set ATLAS_PROBE_BASE_URL=http://127.0.0.1:PORT (an ATLAS server without keys) to also
run one real completion through each client.
"""

from __future__ import annotations

import json
import os
import socket

import pytest

from atlas_suite import probes


@pytest.fixture(params=probes.LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    reason = probes.available(request.param)
    if reason is not None:
        pytest.skip(reason)
    return request.param


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_json_request_is_reported_as_an_error_object(language: str) -> None:
    with pytest.raises(probes.ProbeError) as caught:
        probes.run_probe_raw(language, "{not json", timeout_s=60)
    err = caught.value
    assert err.returncode not in (0, None)
    assert err.result is not None, err
    assert err.result["ok"] is False
    assert err.result["error_type"] == "ProbeRequestError"
    assert "not valid JSON" in err.result["message"]
    assert err.result["client"] == f"openai-{language}"


def test_unknown_operation_raises_with_the_reason(language: str) -> None:
    request = {"base_url": f"http://127.0.0.1:{_closed_port()}/v1", "operation": "embed",
               "model": "any"}
    with pytest.raises(probes.ProbeError, match="unknown operation"):
        probes.run_probe(language, request, timeout_s=60)


def test_unreachable_server_raises_quoting_stderr(language: str) -> None:
    request = {"base_url": f"http://127.0.0.1:{_closed_port()}/v1", "operation": "models",
               "api_key": None}
    with pytest.raises(probes.ProbeError) as caught:
        probes.run_probe(language, request, timeout_s=60)
    assert caught.value.stderr.strip(), "the probe gave no reason on stderr"
    assert caught.value.stderr.strip()[:40] in str(caught.value)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown probe language"):
        probes.run_probe("ruby", {})


def test_probes_report_the_pinned_client_versions() -> None:
    lock = json.loads((probes.NODE_DIR / "package-lock.json").read_text())
    pinned = json.loads((probes.NODE_DIR / "package.json").read_text())["dependencies"]["openai"]
    assert lock["packages"]["node_modules/openai"]["version"] == pinned
    go_mod = (probes.GO_DIR / "go.mod").read_text()
    assert "github.com/openai/openai-go/v" in go_mod


@pytest.mark.skipif(not os.environ.get("ATLAS_PROBE_BASE_URL"),
                    reason="no server: set ATLAS_PROBE_BASE_URL to an ATLAS server without keys")
def test_atlas_completion_through_the_client(language: str) -> None:
    base = os.environ["ATLAS_PROBE_BASE_URL"].rstrip("/")
    result = probes.run_probe(language, {
        "base_url": f"{base}/v1", "api_key": None, "operation": "chat_stream", "model": "",
        "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4,
        "atlas": {"enabled": True}})
    assert result["ok"] is True, result
    assert result["text"]
    assert result["atlas"]["enabled"] is True
