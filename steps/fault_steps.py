"""Faults: a full disk, clients that hang up, bad requests, path traversal, overload."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import parse
from behave import given, then, when
from hamcrest import assert_that, contains_string, equal_to, greater_than

from atlas_suite import routes
from atlas_suite.atlas import atlas_extension, expect_ok
from atlas_suite.faults import (
    HealthWatch,
    admission_overflow_unknown,
    padded_json,
    post_chunked,
    request_or_silence,
    watching_health,
)
from atlas_suite.memfile import sha256_of
from atlas_suite.schemas import registry
from atlas_suite.steplib import types
from atlas_suite.steplib.catalogue import sets_response
from atlas_suite.steplib.support import (
    api,
    current_server,
    http,
    last,
    last_json,
    noted,
    notes,
    skips_when_unsupported,
    use_server,
)
from atlas_suite.targets import Unsupported
from atlas_suite.texts import long_prompt
from atlas_suite.workloads import BurstResult, burst

DOMAIN = "faults"


# -- a full disk ------------------------------------------------------------------------------
@given('the ATLAS server has saved a memory as "{name}"')
@skips_when_unsupported
def step_default_saved(context: Any, name: str) -> None:
    """On the default ATLAS server: read a text, save it as ``name``, note the file."""
    server = use_server(context, context.pool.get())
    api(context).read_text(long_prompt(40))
    saved = expect_ok(api(context).save(name), f'save the memory as "{name}"')
    notes(context)["previous"] = (server.require_memory_dir() / name, saved["fingerprint"])


@given('an ATLAS server whose disk fills up after {size:ByteSize} holds a copy of "{name}"')
@skips_when_unsupported
def step_small_disk_with_copy(context: Any, size: int, name: str) -> None:
    """Start (or reuse) a server with a file-size limit and put a copy of the file in its folder."""
    source, fingerprint = noted(context, "previous")
    config = context.pool.default_config.with_(fsize_limit_kb=max(size // 1024, 1))
    server = use_server(context, context.pool.get(config))
    target = server.require_memory_dir() / name
    shutil.copyfile(source, target)  # the suite writes it: no size limit applies to us
    notes(context)["previous_file"] = (target, sha256_of(target), fingerprint)


@then("the save is refused for lack of disk space")
def step_save_no_space(context: Any) -> None:
    """The save was answered 507 in the error envelope, of type ``insufficient_storage_error``,
    with a message that mentions the disk or its space."""
    reply = last(context)
    assert_that(reply.status, equal_to(507),
                f"a save that runs out of disk space should be refused with 507, but the server "
                f"answered HTTP {reply.status}: {reply.text[:300]}")
    _in_error_envelope(reply.json(), reply.text)
    error = reply.json()["error"]
    assert_that(error["type"], equal_to("insufficient_storage_error"), "error.type")
    message = str(error["message"]).lower()
    assert_that("disk" in message or "space" in message, equal_to(True),
                f'the error message should mention "disk" or "space": {message!r}')


def _in_error_envelope(document: Any, text: str) -> None:
    problems = registry().errors("error", document)
    assert_that(problems, equal_to([]), f"the refusal is not in the error envelope: {text[:300]}")


@then('the error message mentions "{word}" or "{other}"')
def step_message_mentions(context: Any, word: str, other: str) -> None:
    """``error.message`` contains one of the two words (ignoring case)."""
    message = str(last_json(context)["error"]["message"]).lower()
    assert_that(word.lower() in message or other.lower() in message, equal_to(True),
                f'the error message should mention "{word}" or "{other}": {message!r}')


@then('the file "{name}" is byte-for-byte what it was before')
def step_file_intact(context: Any, name: str) -> None:
    """The failed save left the previous file exactly as it was (atomic save)."""
    path, digest, _ = noted(context, "previous_file")
    assert_that(path.name, equal_to(name))
    assert_that(path.is_file(), equal_to(True), f"{name} disappeared after the failed save")
    assert_that(sha256_of(path), equal_to(digest), f"{name} changed after the failed save")


@then("the loaded fingerprint is the one the first server saved")
def step_loaded_fingerprint(context: Any) -> None:
    """The load's answer carries the fingerprint the file was saved with."""
    _, _, fingerprint = noted(context, "previous_file")
    assert_that(last_json(context)["fingerprint"], equal_to(fingerprint), "fingerprint")


# -- a client that hangs up ---------------------------------------------------------------------
@when("a client starts a long streamed completion and hangs up after the first chunk")
def step_hang_up(context: Any) -> None:
    """Stream a 400-token ATLAS completion, read one event, close the connection."""
    atlas = api(context)
    body = atlas.completion_body(long_prompt(60), max_tokens=400, stream=True,
                                 atlas=atlas_extension())
    http(context).open_stream_and_hang_up(routes.COMPLETIONS, body)


# -- a memory file that cannot be used inside a request --------------------------------------------
@when('a completion names the memory file "{name}"')
@sets_response
def step_completion_names_file(context: Any, name: str) -> None:
    """An ATLAS text completion whose ``memory_file`` is ``name``; its answer is "the response"."""
    api(context).complete("The tide came in", atlas=atlas_extension(memory_file=name))


@then("the completion is refused as corruption of its memory file")
def step_completion_corrupt(context: Any) -> None:
    """The completion was answered 400 in the error envelope with a message that says
    "corruption"."""
    reply = last(context)
    assert_that(reply.status, equal_to(400),
                f"a completion naming a damaged memory file should be refused with 400, but the "
                f"server answered HTTP {reply.status}: {reply.text[:300]}")
    _in_error_envelope(reply.json(), reply.text)
    assert_that(str(reply.json()["error"]["message"]).lower(), contains_string("corruption"),
                "the error message")


@then("the long ATLAS completion is answered: no memory reservation was kept")
def step_long_answered(context: Any) -> None:
    """The long ATLAS completion sent last was answered 200: it could only run once every
    earlier request had given its memory reservation back (no answer reads as status 0)."""
    reply = last(context)
    assert_that(reply.status, equal_to(200),
                f"the long ATLAS completion was answered HTTP {reply.status} "
                f"{reply.text[:300]!r}: an earlier request kept its memory reservation")


@given("the server declares a memory budget of {mb:Int} MB")
def step_declares_budget(context: Any, mb: int) -> None:
    """``limits.memory_budget_mb`` in the status is ``mb``."""
    declared = api(context).status().get("limits", {}).get("memory_budget_mb")
    assert_that(declared, equal_to(mb), "limits.memory_budget_mb in the status")


@then("a new completion still succeeds")
def step_new_completion(context: Any) -> None:
    """A short plain completion answers 200."""
    expect_ok(api(context).complete("Hello"), "answer a new completion")


# -- file names that leave the memory folder -------------------------------------------------------
FILE_ROUTES = {"save": routes.MEMORY_SAVE, "load": routes.MEMORY_LOAD,
               "delete": routes.MEMORY_DELETE}


@parse.with_pattern("|".join(FILE_ROUTES))
def parse_file_action(text: str) -> str:
    """What a client asks of a memory file: save, load or delete."""
    return text


types._register(FileAction=parse_file_action)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _watched(server: Any) -> Path:
    """The suite's folder around the memory folder, or the memory folder of a url target."""
    return server.root_dir or server.require_memory_dir()


def _pointed(server: Any, name: str) -> Path:
    return (server.require_memory_dir() / name).resolve()


@given('I note the files in and around the memory folder, and what is at "{name:MaybeEmpty}"')
@skips_when_unsupported
def step_note_tree(context: Any, name: str) -> None:
    """Keep the listing of the suite's folder around the memory folder, and whether the place
    ``name`` points to (resolved against the memory folder) exists."""
    server = current_server(context)
    notes(context)["tree"] = _tree(_watched(server))
    notes(context)["pointed"] = _pointed(server, name).exists()


@when('a client asks to {action:FileAction} the memory file named "{name:MaybeEmpty}"')
@sets_response
@skips_when_unsupported
def step_file_action(context: Any, action: str, name: str) -> None:
    """Note the files in and around the memory folder and whether the place ``name`` points to
    exists, then POST ``{"filename": name}`` to the save, load or delete route; its answer is
    "the response"."""
    step_note_tree(context, name)
    http(context).post(FILE_ROUTES[action], {"filename": name})


@then("the file name is refused as not a plain memory file name")
def step_name_refused(context: Any) -> None:
    """The request was answered 400 in the error envelope, naming ``filename`` as the problem."""
    reply = last(context)
    assert_that(reply.status, equal_to(400),
                f"a file name that is not a plain .atlas name should be refused with 400, but "
                f"the server answered HTTP {reply.status}: {reply.text[:300]}")
    _in_error_envelope(reply.json(), reply.text)
    assert_that(reply.json()["error"].get("param"), equal_to("filename"), "error.param")


@then('no file was created or removed in or around the memory folder, nor at "{name:MaybeEmpty}"')
def step_no_escape(context: Any, name: str) -> None:
    """The suite's folder lists the same files as before, and the place ``name`` points to
    exists exactly when it existed before."""
    server = current_server(context)
    now = _tree(_watched(server))
    before = noted(context, "tree")
    assert_that({"created": sorted(now - before), "removed": sorted(before - now)},
                equal_to({"created": [], "removed": []}), "files touched by a refused name")
    assert_that(_pointed(server, name).exists(), equal_to(noted(context, "pointed")),
                f"the place {name!r} points to ({_pointed(server, name)}) was touched")


# -- overload -----------------------------------------------------------------------------------
def _burst(context: Any) -> BurstResult:
    result = getattr(context, "burst", None)
    assert result is not None, "no burst of requests was sent in this scenario"
    return result


@when("{count:Int} long ATLAS completions are sent at once through {workers:Int} workers")
def step_burst(context: Any, count: int, workers: int) -> None:
    """``count`` completions (a ~300-token prompt, 32 tokens, ATLAS on) from ``workers`` threads,
    while ``/health`` is probed in the background."""
    atlas = api(context)
    body = atlas.completion_body(long_prompt(300), max_tokens=32, atlas=atlas_extension())
    with watching_health(current_server(context).base_url) as watch:
        context.burst = burst(http(context).url(routes.COMPLETIONS), body, count=count,
                              workers=workers, headers=http(context).headers)
    context.burst_health = watch
    context.burst_workers = workers
    print(f"burst: {context.burst.summary()}; /health meanwhile: {watch.summary()}")


@then("at least one of them succeeds")
def step_some_succeed(context: Any) -> None:
    """The server admitted and completed at least one of the requests."""
    result = _burst(context)
    assert_that(result.statuses()[200], greater_than(0),
                f"no request succeeded: {result.summary()}")


@then('every refusal is a 503 whose message mentions "{word}"')
def step_refusals(context: Any, word: str) -> None:
    """Every answer is 200 or 503, and each 503 is in the OpenAI error envelope, with type
    ``unavailable_error`` and a message that contains ``word``."""
    result = _burst(context)
    others = {s: n for s, n in result.statuses().items() if s not in (200, 503)}
    assert_that(others, equal_to({}), f"only 200 and 503 are expected: {result.summary()}")
    for body in result.bodies(503):
        assert_that(body.lower(), contains_string(word.lower()), "a 503 without the reason")
        problems = registry().errors("error", _json_or_text(body))
        assert_that(problems, equal_to([]), f"a 503 not in the error envelope: {body[:300]}")
        error_type = _json_or_text(body)["error"]["type"]
        assert_that(error_type, equal_to("unavailable_error"),
                    f"a 503 whose error type is {error_type!r}: {body[:300]}")


def _json_or_text(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


@then("at least one of them was refused")
@skips_when_unsupported
def step_some_refused(context: Any) -> None:
    """Some requests were refused (503) rather than all queued. Asked only of a server that
    declares its wait queue (``limits.admission_queue`` in the status) smaller than the burst's
    concurrency: the contract bounds the queue without a number, so a deeper queue is no fault."""
    result = _burst(context)
    overflow_problem = admission_overflow_unknown(api(context).status(), context.burst_workers)
    if overflow_problem:
        raise Unsupported(overflow_problem)
    assert_that(result.statuses()[503], greater_than(0),
                "every request was accepted or queued, none refused: the wait queue is not "
                f"bounded as the contract says ({result.summary()})")


@then("the health check answered 200 all along")
def step_health_all_along(context: Any) -> None:
    """Every ``/health`` probe sent during the burst answered 200."""
    watch: HealthWatch | None = getattr(context, "burst_health", None)
    assert watch is not None, "the health check was not watched in this scenario"
    assert_that(watch.problems(), equal_to([]),
                f"the server did not stay healthy under load ({watch.summary()})")


@then("no request went unanswered")
def step_all_answered(context: Any) -> None:
    """Every request got an HTTP answer (no reset connection, no timeout)."""
    result = _burst(context)
    assert_that(result.transport_errors, equal_to([]), result.summary())


# -- edges of the body limit and of JSON ---------------------------------------------------------
@when('I POST "{path}" the JSON {document:JSON} padded to exactly {size:ByteSize}')
def step_post_padded(context: Any, path: str, document: Any, size: int) -> None:
    """POST ``document`` followed by spaces, exactly ``size`` bytes in all (still valid JSON)."""
    http(context).post(path, body=padded_json(document, size))


@when('I POST "{path}" the JSON {document:JSON} padded to {size:ByteSize} and {extra:Int} '
      "more byte")
def step_post_padded_over(context: Any, path: str, document: Any, size: int, extra: int) -> None:
    """POST ``document`` padded with spaces to ``size + extra`` bytes."""
    http(context).post(path, body=padded_json(document, size + extra))


@when('I upload {size:ByteSize} of JSON to "{path}" in chunks, with no Content-Length')
def step_post_chunked(context: Any, size: int, path: str) -> None:
    """POST a valid JSON completion body of ``size`` bytes with chunked transfer encoding."""
    body = padded_json({"prompt": "Hi", "max_tokens": 1}, size)
    post_chunked(http(context), path, body)


@then("the response status is {first:Status} or {second:Status}")
def step_status_either(context: Any, first: int, second: int) -> None:
    """The last response has one of the two statuses."""
    reply = http(context).last
    assert_that(reply.status in (first, second), equal_to(True),
                f"expected {first} or {second} to {reply.method} {reply.path}, got "
                f"HTTP {reply.status} {reply.text[:300]}")


# -- memory reservations given back ---------------------------------------------------------------
@when("an ATLAS completion with a prompt longer than the whole context is sent")
def step_over_context(context: Any) -> None:
    """An ATLAS completion whose prompt (~5000 tokens) exceeds a 4096-token context: the engine
    refuses it or cuts it; either way its memory reservation must be given back."""
    atlas = api(context)
    http(context).post(routes.COMPLETIONS, atlas.completion_body(
        long_prompt(5000), max_tokens=8, atlas=atlas_extension()))


@when("a long ATLAS completion is sent")
def step_long_atlas(context: Any) -> None:
    """An ATLAS completion of a ~300-token prompt and 8 tokens: more memory work than a 1 MB
    budget holds, so it runs only once nothing else holds a reservation. No answer within
    120 s is recorded as status 0 (a reservation that was never given back)."""
    atlas = api(context)
    body = atlas.completion_body(long_prompt(300), max_tokens=8, atlas=atlas_extension())
    request_or_silence(http(context), "POST", routes.COMPLETIONS, body, timeout_s=120)
