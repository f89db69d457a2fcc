"""Damaging memory files on disk the way the real world does, and what load must answer."""

from __future__ import annotations

from typing import Any

from behave import then, when
from hamcrest import assert_that, contains_string, equal_to

from atlas_suite.atlas import expect_ok
from atlas_suite.config import ServerConfig
from atlas_suite.http import describe_text
from atlas_suite.memfile import Damage
from atlas_suite.schemas import registry
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.support import (
    api,
    current_server,
    last,
    skips_when_unsupported,
    use_server,
)
from atlas_suite.texts import long_prompt

OTHER_MODEL_FILE = "made-for-another-model.atlas"


def _memory_from_other_model(context: Any) -> bytes:
    """A memory file saved by a second server running the tiny model (once per run)."""
    main = current_server(context)
    other_config = ServerConfig(atlas=True, parallel=1, ctx_size=2048, model="tiny")
    other = context.pool.get(other_config)
    folder = other.require_memory_dir()
    if not (folder / OTHER_MODEL_FILE).is_file():
        use_server(context, other)
        try:
            api(context).read_text(long_prompt(40))
            expect_ok(api(context).save(OTHER_MODEL_FILE),
                      "save a memory on the server running the other model")
        finally:
            use_server(context, main)
    return (folder / OTHER_MODEL_FILE).read_bytes()


@when('the memory file "{name}" is {damage:Damage}')
@skips_when_unsupported
def step_damage(context: Any, name: str, damage: Damage) -> None:
    """Damage a file in the server's memory folder: "corrupted at byte 100" (writes
    CORRUPTED_DATA there), "truncated to 50 bytes", "cut short by 32 bytes", "emptied",
    "stamped with a wrong magic", "stamped with format version 2" (checksum recomputed),
    "replaced by a memory from another model"."""
    path = current_server(context).require_memory_dir() / name
    if damage.needs_other_model:
        data = _memory_from_other_model(context)
        path.write_bytes(data)
    else:
        assert path.is_file(), f"{name} is not in the memory folder"
        damage.apply_to_file(path)


@then('the load is refused with {status:Status} and a message containing "{text}"')
def step_refused(context: Any, status: int, text: str) -> None:
    """The last answer is ``status`` in the error envelope and its message contains ``text``."""
    reply = last(context)
    assert_that(reply.status, equal_to(status),
                f"expected the server to reject the damaged memory file with {status}, but it "
                f"answered {describe_text(reply.status, reply.text)}")
    assert_that(registry().errors("error", reply.json()), equal_to([]), reply.text)
    message = reply.json()["error"]["message"]
    assert_that(message.lower(), contains_string(text.lower()),
                f'the error message should say "{text}"')
