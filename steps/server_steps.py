"""Which server a scenario talks to, restarts, health and the server's log."""

from __future__ import annotations

import json
from typing import Any

from behave import given, then, when
from hamcrest import assert_that, contains_string, equal_to, greater_than, is_not
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from atlas_suite import routes
from atlas_suite.atlas import atlas_extension
from atlas_suite.config import ServerConfig
from atlas_suite.faults import interrupt
from atlas_suite.http import describe_text
from atlas_suite.schemas import registry
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.support import (
    api,
    current_server,
    http,
    skips_when_unsupported,
    use_server,
)
from atlas_suite.texts import long_prompt

DOMAIN = "server"


def _default(context: Any) -> ServerConfig:
    return context.pool.default_config


@given("the server under test is running")
@skips_when_unsupported
def step_default_server(context: Any) -> None:
    """The server of the default configuration (with or without ATLAS, as the profile says)."""
    use_server(context, context.pool.get())


@given("the ATLAS server is running")
@skips_when_unsupported
def step_atlas_server(context: Any) -> None:
    """The default server with the ATLAS extension on (parallel 4, context 4096)."""
    assert_that(_default(context).atlas, equal_to(True),
                "this scenario needs ATLAS: tag it @atlas so profile=openai skips it")
    use_server(context, context.pool.get())


@given("a plain OpenAI server without ATLAS")
@skips_when_unsupported
def step_plain_server(context: Any) -> None:
    """A server started without ``--atlas``."""
    use_server(context, context.pool.get(_default(context).with_(atlas=False)))


@given("a server started to serve embeddings")
@skips_when_unsupported
def step_embeddings_server(context: Any) -> None:
    """A server started with ``--embeddings --pooling mean`` (llama-server's flags; mean
    pooling gives one vector per text whatever the model's own pooling)."""
    config = _default(context).with_(embeddings=True, pooling="mean")
    use_server(context, context.pool.get(config))


@given("an ATLAS server with a memory budget of {mb:Int} MB")
@skips_when_unsupported
def step_budget_server(context: Any, mb: int) -> None:
    """A server started with ``--atlas-memory-budget-mb MB``."""
    use_server(context, context.pool.get(_default(context).with_(memory_budget_mb=mb)))


@given("an ATLAS server started with a window size of {window:Int} and a blend ratio of "
       "{ratio:Number}")
@skips_when_unsupported
def step_tuned_server(context: Any, window: int, ratio: float) -> None:
    """A server started with ``--atlas-window-size N --atlas-blend-ratio X``."""
    config = _default(context).with_(window_size=window, blend_ratio=ratio)
    use_server(context, context.pool.get(config))


@given("a fresh server limited to {n:Int} requests per minute")
@skips_when_unsupported
def step_rate_limited_server(context: Any, n: int) -> None:
    """A newly started server with ``--rate-limit N`` (fresh, so no earlier request counts)."""
    use_server(context, context.pool.fresh(_default(context).with_(rate_limit=n)))


@given('a server that requires the API key "{key}"')
@skips_when_unsupported
def step_keyed_server(context: Any, key: str) -> None:
    """A server started with ``--api-key KEY``; requests carry no key until a step adds one."""
    use_server(context, context.pool.get(_default(context).with_(api_keys=(key,))))


@given("a fresh ATLAS server that keeps its memory across restarts")
@skips_when_unsupported
def step_persistent_server(context: Any) -> None:
    """A newly started server with ``--atlas-memory-persist``."""
    use_server(context, context.pool.fresh(_default(context).with_(persist=True)))


@given('a server that reads its API keys from a file holding "{first}" and "{second}"')
@skips_when_unsupported
def step_key_file_server(context: Any, first: str, second: str) -> None:
    """A server started with ``--api-key-file``: the suite writes both keys into that file."""
    config = _default(context).with_(api_key_file=(first, second))
    use_server(context, context.pool.get(config))


@given("a newly started server under test")
@skips_when_unsupported
def step_new_server(context: Any) -> None:
    """The default configuration, started anew for this scenario (to watch its start-up)."""
    use_server(context, context.pool.fresh(_default(context)))


@given('a fresh ATLAS server that starts from the memory file "{name}"')
@skips_when_unsupported
def step_memory_file_server(context: Any, name: str) -> None:
    """A newly started server with ``--atlas-memory-file NAME``."""
    use_server(context, context.pool.fresh(_default(context).with_(memory_file=name)))


@given("an ATLAS server whose disk fills up after {size:ByteSize}")
@skips_when_unsupported
def step_small_disk_server(context: Any, size: int) -> None:
    """A server whose disk is full once its files have grown to ``size``: writing a memory file
    past it fails as on a full disk."""
    kb = max(size // 1024, 1)
    use_server(context, context.pool.get(_default(context).with_(fsize_limit_kb=kb)))


@when("the server is restarted gracefully")
@skips_when_unsupported
def step_restart(context: Any) -> None:
    """SIGTERM, wait for the exit, start again on the same memory folder."""
    server = context.pool.restart(current_server(context).config)
    use_server(context, server)


@when("a long streamed completion is in flight when the server is asked to stop")
@skips_when_unsupported
def step_stop_mid_stream(context: Any) -> None:
    """Stream a 120-token completion (with ATLAS where the server has it); at its first chunk
    send SIGTERM; read the stream to its end, then wait for the process to exit (its code is
    kept for the next steps)."""
    server = current_server(context)
    process = server.require_process()
    extension = atlas_extension() if server.config.atlas else None
    body = api(context).completion_body(long_prompt(20), max_tokens=120, stream=True,
                                        atlas=extension)
    context.stream = http(context).stream(routes.COMPLETIONS, body,
                                          on_first_event=process.terminate, keep_cut=True)
    server.stop()


@then("while it was loading, the server answered /health with 503 in the error envelope")
@skips_when_unsupported
def step_loading_answers(context: Any) -> None:
    """Among the ``/health`` answers seen while the server started, a 503 in the OpenAI error
    envelope came before the first 200."""
    answers = current_server(context).require_process().startup_answers
    statuses = [status for status, _ in answers]
    assert_that(statuses and statuses[-1] == 200, equal_to(True),
                f"expected the start-up to end with a 200 from /health; saw {statuses}")
    loading = [text for status, text in answers if status == 503]
    assert_that(len(loading), greater_than(0),
                "expected /health to answer 503 while the model loaded, but the first answer "
                f"was already {statuses[0]}: the server reports healthy before it is ready")
    problems = registry().errors("error", json.loads(loading[0]))
    assert_that(problems, equal_to([]),
                f"the loading answer is not in the error envelope: {loading[0]}")


@then("the server exited with code {code:Int}")
def step_exit_code(context: Any, code: int) -> None:
    """The last graceful stop ended with this exit code."""
    server = current_server(context)
    assert_that(server.last_exit_code, equal_to(code),
                f"expected the server to exit with {code} on SIGTERM (a negative code is the "
                f"signal that ended it); its log ended with:\n{server.last_stop_log_tail}")


@then("the server is healthy")
def step_healthy(context: Any) -> None:
    """The process is alive and ``GET /health`` answers 200."""
    server = current_server(context)
    assert_that(server.alive(), equal_to(True),
                f"the server process died (exit code {server.process and server.process.exit_code})"
                f"; log tail:\n{server.log_tail(40)}")
    reply = http(context).get(routes.HEALTH)
    assert_that(reply.status, equal_to(200),
                f"expected {routes.HEALTH} to answer 200, "
                f"got {describe_text(reply.status, reply.text)}")


@then("the server process is still running")
def step_alive(context: Any) -> None:
    """The server process has not exited (no crash)."""
    server = current_server(context)
    assert_that(server.alive(), equal_to(True),
                f"the server crashed; log tail:\n{server.log_tail(60)}")


@then('the server log does not contain "{text}"')
@skips_when_unsupported
def step_log_lacks(context: Any, text: str) -> None:
    """Nothing the server printed (stdout and stderr) contains ``text``."""
    log = current_server(context).log_text()
    assert_that(log, is_not(contains_string(text)), "the server log leaks it")


@then("within {seconds:Int} seconds the server is healthy again")
def step_healthy_within(context: Any, seconds: int) -> None:
    """Poll until the server is healthy, up to ``seconds``."""
    retry(stop=stop_after_delay(seconds), wait=wait_fixed(0.5), reraise=True,
          retry=retry_if_exception_type(AssertionError))(step_healthy)(context)


@given('a fresh server limited to {n:Int} requests per minute that requires the API keys '
       '"{first}" and "{second}"')
@skips_when_unsupported
def step_rate_limited_keyed_server(context: Any, n: int, first: str, second: str) -> None:
    """A newly started server with ``--rate-limit N --api-key FIRST --api-key SECOND``;
    requests carry no key until a step adds one."""
    config = _default(context).with_(rate_limit=n, api_keys=(first, second))
    use_server(context, context.pool.fresh(config))


@when("the server is interrupted with SIGINT")
@skips_when_unsupported
def step_interrupt(context: Any) -> None:
    """Send SIGINT (Ctrl-C) and wait for the process to exit; its code is kept for the next
    steps ("the server exited with code 0")."""
    server = current_server(context)
    process = server.require_process()
    server.last_exit_code = interrupt(process)
    server.last_stop_log_tail = process.log_tail(30)


@given("a server under test started with {ctx:Int} tokens of context, {slots:Int} slots and "
       "{threads:Int} threads")
@skips_when_unsupported
def step_sized_server(context: Any, ctx: int, slots: int, threads: int) -> None:
    """A server started with llama-server's own ``-c CTX -np SLOTS -t THREADS``."""
    config = _default(context).with_(ctx_size=ctx, parallel=slots, threads=threads)
    use_server(context, context.pool.get(config))
