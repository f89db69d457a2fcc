"""The ATLAS memory: reading text, fingerprints, files (save, load, list, delete, reset)."""

from __future__ import annotations

import math
from contextlib import suppress
from typing import Any

from behave import given, then, when
from hamcrest import assert_that, close_to, equal_to, has_key, is_not, less_than, not_

from atlas_suite.atlas import ApiError, expect_ok, expect_refusal
from atlas_suite.schemas import registry
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.catalogue import deprecated, sets_response
from atlas_suite.steplib.support import api, last, noted, notes

DOMAIN = "memory"


def _read(context: Any, text: str, memory: str | None = None) -> dict[str, Any]:
    _note_before_change(context)
    block = api(context).read_text(text, memory=memory)
    notes(context).setdefault("reads", []).append(block)
    notes(context).setdefault("read texts", []).append((memory, text))
    context.last_text = text
    if memory is None:  # for "the memory's fingerprint is the one it had after ..." steps
        fingerprint = api(context).fingerprint()
        notes(context)["after read"] = fingerprint
        notes(context).setdefault("first reads", {}).setdefault(text, fingerprint)
    else:
        notes(context).setdefault("named memories", set()).add(memory)
    return block


def _note_before_change(context: Any) -> None:
    """Keep the default memory in use, and the fingerprint of every named memory this scenario
    used, just before a read, load or reset: what "unchanged" and "changed" compare with."""
    notes(context)["before"] = api(context).memory_in_use()
    for memory in notes(context).get("named memories", ()):
        with suppress(ApiError):  # one the server has dropped has no fingerprint to keep
            notes(context)[f"before:{memory}"] = api(context).memory_fingerprint(memory)


def _baseline(context: Any) -> Any:
    """What "unchanged" compares with: the memory in use a Given noted, else the one seen just
    before the scenario's last read, load or reset."""
    found = notes(context).get("in use") or notes(context).get("before")
    assert found is not None, "the memory has not read, loaded or reset anything in this scenario"
    return found


# -- reading ----------------------------------------------------------------------------------
@given('the memory has read "{text}"')
@when('the memory reads "{text}"')
def step_read(context: Any, text: str) -> None:
    """Send ``text`` through an ATLAS completion of the default memory."""
    _read(context, text)


@given("the memory has read the text:")
@when("the memory reads the text:")
def step_read_doc(context: Any) -> None:
    """Send the doc string through an ATLAS completion of the default memory."""
    _read(context, context.text)


@when("the memory reads the same text again")
def step_read_again(context: Any) -> None:
    """Send the text of the previous read once more."""
    _read(context, context.last_text)


@given('the memory "{memory}" has read "{text}"')
@when('the memory "{memory}" reads "{text}"')
def step_read_named(context: Any, memory: str, text: str) -> None:
    """Send ``text`` through an ATLAS completion of the named memory (``memory_file``)."""
    _read(context, text, memory=memory)


@then("the second read's omega loss is lower than the first's")
def step_loss_lower(context: Any) -> None:
    """The memory learned: re-reading a text recalls it better (lower mean omega loss)."""
    first, second = (block["omega_loss"] for block in noted(context, "reads")[-2:])
    assert_that(first is not None and second is not None, equal_to(True),
                f"both reads must report an omega_loss, got {first!r} and {second!r}")
    assert_that(second, less_than(first),
                f"a memory that learns recalls a re-read text better, but the omega loss went "
                f"from {first} to {second}")


@when("I remember the reported omega loss")
def step_remember_loss(context: Any) -> None:
    """Keep the omega loss of the latest read."""
    notes(context)["omega_loss"] = noted(context, "reads")[-1]["omega_loss"]


@then("the reported omega loss is the remembered one")
def step_same_loss(context: Any) -> None:
    """The latest read's omega loss equals the remembered one (float32 rounding aside)."""
    expected = noted(context, "omega_loss")
    actual = noted(context, "reads")[-1]["omega_loss"]
    assert_that(actual, close_to(expected, 1e-6 * max(1.0, abs(expected))),
                "a loaded memory must continue exactly like the one that was saved")


@then("the memory learns the same from that text as before the load")
def step_same_learning(context: Any) -> None:
    """The latest read's omega loss equals (float32 rounding aside) that of the previous read of
    the same text by the same memory: the loaded memory continues as the saved one did."""
    texts = noted(context, "read texts")
    earlier = [i for i, read in enumerate(texts[:-1]) if read == texts[-1]]
    assert earlier, "the memory has read that text only once in this scenario"
    reads = noted(context, "reads")
    expected, actual = reads[earlier[-1]]["omega_loss"], reads[-1]["omega_loss"]
    assert_that(actual, close_to(expected, 1e-6 * max(1.0, abs(expected))),
                "a loaded memory must continue exactly like the one that was saved")


# -- fingerprints and counters ------------------------------------------------------------------
@given("I note the memory fingerprint")
@when("I note the memory fingerprint")
def step_note_fingerprint(context: Any) -> None:
    """Keep the default memory's fingerprint (from /v1/atlas/status)."""
    notes(context)["fingerprint"] = api(context).fingerprint()


@then("the memory fingerprint is unchanged")
def step_fingerprint_same(context: Any) -> None:
    """The default memory's fingerprint is the one noted ("I note the memory fingerprint"), or
    else the one it had just before the scenario's last read, load or reset."""
    expected = notes(context).get("fingerprint") or _baseline(context).fingerprint
    assert_that(api(context).fingerprint(), equal_to(expected),
                "the memory in use should be exactly as it was")


@then("the memory fingerprint is the one noted")
@deprecated("the memory fingerprint is unchanged")
def step_fingerprint_noted(context: Any) -> None:
    """Deprecated: use `the memory fingerprint is unchanged`."""
    step_fingerprint_same(context)


@then("the memory's fingerprint is the one it had after first reading that text")
def step_fingerprint_first_read(context: Any) -> None:
    """The default memory's fingerprint equals the one it had right after it first read the
    text of the latest read in this scenario: the memory learned it exactly as it did then."""
    expected = noted(context, "first reads")[context.last_text]
    assert_that(api(context).fingerprint(), equal_to(expected),
                "a reset memory should learn a text exactly as a fresh one did")


@then("the memory still holds what it read")
def step_still_holds(context: Any) -> None:
    """The default memory's fingerprint is the one it had right after its latest read in this
    scenario (a restart, for one, lost nothing)."""
    assert_that(api(context).fingerprint(), equal_to(noted(context, "after read")),
                "the memory should be exactly as it was after its last read")


@then("the memory fingerprint has changed")
def step_fingerprint_changed(context: Any) -> None:
    """The default memory's fingerprint differs from the noted one, or else from the one it had
    just before the scenario's last read, load or reset: the memory was updated."""
    before = notes(context).get("fingerprint") or _baseline(context).fingerprint
    assert_that(api(context).fingerprint(), is_not(equal_to(before)),
                "an ATLAS request should have updated the memory")


@given('I note the fingerprint of the memory "{memory}"')
def step_note_named(context: Any, memory: str) -> None:
    """Keep a named memory's fingerprint (read by saving it to a scratch file)."""
    notes(context)[f"fingerprint:{memory}"] = api(context).memory_fingerprint(memory)


@then('the fingerprint of the memory "{memory}" is unchanged')
def step_named_same(context: Any, memory: str) -> None:
    """A named memory's fingerprint equals the one noted for it, or else the one it had just
    before the scenario's last read, load or reset: it saw none of the other's text."""
    before = notes(context).get(f"fingerprint:{memory}") or noted(context, f"before:{memory}")
    assert_that(api(context).memory_fingerprint(memory), equal_to(before),
                f'the memory "{memory}" changed although no text was sent to it')


@given("I note the memory counters")
def step_note_counters(context: Any) -> None:
    """Keep ``memory.tokens_memorized`` and ``memory.updates`` from the status."""
    memory = api(context).status()["memory"]
    notes(context)["counters"] = (memory["tokens_memorized"], memory["updates"])


@given("I note the memory in use")
def step_note_in_use(context: Any) -> None:
    """Keep what identifies the default memory: fingerprint, tokens_memorized, updates,
    omega_loss and source (from /v1/atlas/status)."""
    notes(context)["in use"] = api(context).memory_in_use()


@then("the memory in use is unchanged")
def step_in_use_same(context: Any) -> None:
    """The default memory's fingerprint, counters, omega_loss and source are those noted ("I note
    the memory in use"), or else those it had just before the scenario's last load or reset:
    nothing of a refused request was applied, not even in part."""
    changes = _baseline(context).differences(api(context).memory_in_use())
    assert not changes, f"the memory in use changed: {'; '.join(changes)}"


@then("the memory's fingerprint, counters and omega loss are the ones noted")
def step_in_use_restored(context: Any) -> None:
    """Like "the memory in use is unchanged", but the source may name the file just loaded."""
    now = api(context).memory_in_use()
    changes = [c for c in noted(context, "in use").differences(now) if not c.startswith("source")]
    assert not changes, f"the loaded memory is not the one saved: {'; '.join(changes)}"


@then("the memory is in its initial state: no tokens memorized, no updates, no omega loss")
def step_initial_state(context: Any) -> None:
    """``tokens_memorized`` and ``updates`` are 0 and ``omega_loss`` is null in the status."""
    memory = api(context).status()["memory"]
    found = {k: memory[k] for k in ("tokens_memorized", "updates", "omega_loss")}
    assert_that(found, equal_to({"tokens_memorized": 0, "updates": 0, "omega_loss": None}),
                "a reset memory starts from nothing")


@then("the memory counters have grown")
def step_counters_grown(context: Any) -> None:
    """Both ``tokens_memorized`` and ``updates`` grew since they were noted, or else since just
    before the scenario's last read, load or reset."""
    memory = api(context).status()["memory"]
    baseline = notes(context).get("counters")
    before = baseline or (_baseline(context).tokens_memorized, _baseline(context).updates)
    after = (memory["tokens_memorized"], memory["updates"])
    assert_that(after[0] > before[0] and after[1] > before[1], equal_to(True),
                f"(tokens_memorized, updates) went from {before} to {after}")


@then("the status reports {n:Int} tokens memorized")
def step_status_tokens(context: Any, n: int) -> None:
    """``memory.tokens_memorized`` in the status is ``n``."""
    assert_that(api(context).status()["memory"]["tokens_memorized"], equal_to(n),
                "memory.tokens_memorized")


# -- reset and named memories --------------------------------------------------------------------
@given("the memory has been reset")
def step_given_reset(context: Any) -> None:
    """Reset the default memory to its initial state; its fingerprint then is kept as the
    initial one."""
    expect_ok(api(context).reset(), "reset the memory")
    notes(context)["initial fingerprint"] = api(context).fingerprint()


@when("I reset the memory")
@sets_response
def step_reset(context: Any) -> None:
    """Reset the default memory; the reset's answer is "the response"."""
    _note_before_change(context)
    api(context).reset()


@then("the memory is back in its initial state")
def step_back_initial(context: Any) -> None:
    """The reset succeeded in the documented shape for the memory "default", the status shows
    no tokens memorized, no updates and no omega loss, and the fingerprint is the one after the
    scenario's first reset ("the memory has been reset"), when there was one."""
    body = expect_ok(last(context), "reset the memory")
    problems = registry().errors("memory_reset", body)
    assert not problems, f"the reset's answer is not in the documented shape: {problems}"
    assert_that(body["memory"], equal_to("default"), "the memory the reset answered")
    step_initial_state(context)
    if "initial fingerprint" in notes(context):
        assert_that(api(context).fingerprint(), equal_to(noted(context, "initial fingerprint")),
                    "a reset memory should have the fingerprint of the initial memory")


@when('I reset the memory "{memory}"')
@sets_response
def step_reset_named(context: Any, memory: str) -> None:
    """Reset that named memory only; the reset's answer is "the response"."""
    _note_before_change(context)
    with suppress(ApiError):  # a memory never used has no fingerprint; the reset refuses it
        notes(context)[f"before:{memory}"] = api(context).memory_fingerprint(memory)
    api(context).reset(memory)


@given('the memory "{memory}" has been reset')
def step_given_reset_named(context: Any, memory: str) -> None:
    """Reset that named memory (it must succeed)."""
    expect_ok(api(context).reset(memory), f'reset the memory "{memory}"')


@given('the memory "{memory}" is saved as "{name}"')
def step_given_saved_named(context: Any, memory: str, name: str) -> None:
    """Save that named memory to ``name`` (it must succeed); the answer is kept."""
    notes(context)["saved"] = expect_ok(api(context).save(name, memory),
                                        f'save the memory "{memory}" as "{name}"')


@when('I save the memory "{memory}" as "{name}"')
@sets_response
def step_save_named(context: Any, memory: str, name: str) -> None:
    """Save that named memory to ``name``; the save's answer is "the response"."""
    reply = api(context).save(name, memory)
    if reply.status == 200:
        notes(context)["saved"] = reply.json()


@when('I load "{name}" into the memory "{memory}"')
@sets_response
def step_load_named(context: Any, name: str, memory: str) -> None:
    """Load the file into that named memory; the load's answer is "the response"."""
    _note_before_change(context)
    api(context).load(name, memory)


def _named_answer(context: Any, schema: str, memory: str) -> dict[str, Any]:
    body = expect_ok(last(context), f'act on the memory "{memory}"')
    problems = registry().errors(schema, body)
    assert not problems, f"the answer is not in the {schema} shape: {problems}"
    assert_that(body["memory"], equal_to(memory), "the memory the answer names")
    return dict(body)


@then('the memory "{memory}" is back as it was saved')
def step_named_back(context: Any, memory: str) -> None:
    """The load succeeded in the documented shape, naming that memory and the fingerprint the
    save answered, and the memory has that fingerprint now."""
    saved = noted(context, "saved")["fingerprint"]
    body = _named_answer(context, "memory_load", memory)
    assert_that(body["fingerprint"], equal_to(saved), "the fingerprint the load answered")
    assert_that(api(context).memory_fingerprint(memory), equal_to(saved),
                f'the fingerprint of the memory "{memory}" after the load')


@then('the file holds the memory "{memory}", not the default one')
def step_named_saved(context: Any, memory: str) -> None:
    """The save succeeded in the documented shape, naming that memory, with a fingerprint other
    than the default memory's."""
    body = _named_answer(context, "memory_save", memory)
    assert_that(body["fingerprint"], is_not(equal_to(api(context).fingerprint())),
                "the saved file should hold the named memory, not the default one")


@then('the request is refused: there is no memory "{memory}"')
def step_no_such_memory(context: Any, memory: str) -> None:
    """The last request was answered 404 in the error envelope, naming ``memory`` as the
    problem."""
    error = expect_refusal(last(context), 404,
                           f'a request for the memory "{memory}" that was never used')
    assert_that(error.get("param"), equal_to("memory"), "error.param")


@then('the fingerprint of the memory "{memory}" has changed')
def step_named_changed(context: Any, memory: str) -> None:
    """A named memory's fingerprint differs from the one noted for it, or else from the one it
    had just before the scenario's last read, load or reset."""
    before = notes(context).get(f"fingerprint:{memory}") or noted(context, f"before:{memory}")
    assert_that(api(context).memory_fingerprint(memory), is_not(equal_to(before)),
                f'the memory "{memory}" is still as it was noted')


@then("the omega losses are real numbers")
def step_losses_real(context: Any) -> None:
    """Every read in this scenario reported a finite omega loss (or null)."""
    for block in noted(context, "reads"):
        loss = block["omega_loss"]
        assert_that(loss is None or math.isfinite(loss), equal_to(True), str(block))
