"""The ATLAS memory: reading text, fingerprints, files (save, load, list, delete, reset)."""

from __future__ import annotations

import math
from typing import Any

from behave import given, then, when
from hamcrest import assert_that, close_to, equal_to, has_key, is_not, less_than, not_

from atlas_suite import memfile
from atlas_suite.atlas import expect_ok
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.support import (
    api,
    current_server,
    last_json,
    noted,
    notes,
    skips_when_unsupported,
)


def _read(context: Any, text: str, memory: str | None = None) -> dict[str, Any]:
    block = api(context).read_text(text, memory=memory)
    notes(context).setdefault("reads", []).append(block)
    context.last_text = text
    return block


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


@then('the atlas block names the memory "{memory}"')
def step_block_memory(context: Any, memory: str) -> None:
    """The latest read's ``atlas.memory`` is this name."""
    assert_that(noted(context, "reads")[-1]["memory"], equal_to(memory), "atlas.memory")


# -- fingerprints and counters ------------------------------------------------------------------
@given("I note the memory fingerprint")
@when("I note the memory fingerprint")
def step_note_fingerprint(context: Any) -> None:
    """Keep the default memory's fingerprint (from /v1/atlas/status)."""
    notes(context)["fingerprint"] = api(context).fingerprint()


@then("the memory fingerprint is unchanged")
@then("the memory fingerprint is the one noted")
def step_fingerprint_same(context: Any) -> None:
    """The default memory's fingerprint equals the noted one."""
    assert_that(api(context).fingerprint(), equal_to(noted(context, "fingerprint")),
                "the memory in use should be exactly as it was")


@then("the memory fingerprint has changed")
def step_fingerprint_changed(context: Any) -> None:
    """The default memory's fingerprint differs from the noted one (the memory was updated)."""
    assert_that(api(context).fingerprint(), is_not(equal_to(noted(context, "fingerprint"))),
                "an ATLAS request should have updated the memory")


@given('I note the fingerprint of the memory "{memory}"')
def step_note_named(context: Any, memory: str) -> None:
    """Keep a named memory's fingerprint (read by saving it to a scratch file)."""
    notes(context)[f"fingerprint:{memory}"] = api(context).memory_fingerprint(memory)


@then('the fingerprint of the memory "{memory}" is unchanged')
def step_named_same(context: Any, memory: str) -> None:
    """A named memory's fingerprint equals the noted one: it saw none of the other's text."""
    assert_that(api(context).memory_fingerprint(memory),
                equal_to(noted(context, f"fingerprint:{memory}")),
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
    """The default memory's fingerprint, counters, omega_loss and source are the noted ones:
    nothing of a refused request was applied, not even in part."""
    changes = noted(context, "in use").differences(api(context).memory_in_use())
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
    """Both ``tokens_memorized`` and ``updates`` grew since they were noted."""
    memory = api(context).status()["memory"]
    before = noted(context, "counters")
    after = (memory["tokens_memorized"], memory["updates"])
    assert_that(after[0] > before[0] and after[1] > before[1], equal_to(True),
                f"(tokens_memorized, updates) went from {before} to {after}")


@then("the status reports {n:Int} tokens memorized")
def step_status_tokens(context: Any, n: int) -> None:
    """``memory.tokens_memorized`` in the status is ``n``."""
    assert_that(api(context).status()["memory"]["tokens_memorized"], equal_to(n),
                "memory.tokens_memorized")


# -- files ----------------------------------------------------------------------------------------
@given("the memory has been reset")
def step_given_reset(context: Any) -> None:
    """Reset the default memory to its initial state."""
    expect_ok(api(context).reset(), "reset the memory")


@when("I reset the memory")
def step_reset(context: Any) -> None:
    """POST /v1/atlas/memory/reset for the default memory."""
    api(context).reset()


@when('I reset the memory "{memory}"')
def step_reset_named(context: Any, memory: str) -> None:
    """POST /v1/atlas/memory/reset with ``{"memory": NAME}``: reset that named memory only."""
    api(context).reset(memory)


@then('the fingerprint of the memory "{memory}" has changed')
def step_named_changed(context: Any, memory: str) -> None:
    """A named memory's fingerprint differs from the one noted for it."""
    assert_that(api(context).memory_fingerprint(memory),
                is_not(equal_to(noted(context, f"fingerprint:{memory}"))),
                f'the memory "{memory}" is still as it was noted')


@given('a backup reader holds the memory file "{name}" open')
@skips_when_unsupported
def step_hold_file(context: Any, name: str) -> None:
    """Open the file in the memory folder and read it whole, as a backup tool would, keeping it
    open until the scenario ends (needs the memory folder: -D memory_dir for a url target)."""
    held = memfile.HeldFile(current_server(context).require_memory_dir() / name)
    context.add_cleanup(held.close)
    notes(context)[f"held:{name}"] = held


@then('the backup reader still reads the memory file "{name}" it opened, whole')
def step_held_intact(context: Any, name: str) -> None:
    """The held file reads as it did when opened: the save replaced the file with a complete
    new one (temporary file and rename) instead of rewriting it in place."""
    change = noted(context, f"held:{name}").change_seen()
    assert change is None, change


@given('the memory is saved as "{name}"')
def step_given_saved(context: Any, name: str) -> None:
    """Save the default memory to ``name`` (it must succeed)."""
    notes(context)["saved"] = expect_ok(api(context).save(name), f'save the memory as "{name}"')


@when('I save the memory as "{name}"')
def step_save(context: Any, name: str) -> None:
    """POST /v1/atlas/memory/save with this file name."""
    reply = api(context).save(name)
    if reply.status == 200:
        notes(context)["saved"] = reply.json()


@when('I load the memory file "{name}"')
def step_load(context: Any, name: str) -> None:
    """POST /v1/atlas/memory/load with this file name."""
    api(context).load(name)


@when('I delete the memory file "{name}"')
def step_delete(context: Any, name: str) -> None:
    """POST /v1/atlas/memory/delete with this file name."""
    api(context).delete(name)


@then("the saved fingerprint is the memory's current fingerprint")
def step_saved_fingerprint(context: Any) -> None:
    """The save's answer names the fingerprint the status reports."""
    saved = last_json(context)["fingerprint"]
    assert_that(saved, equal_to(api(context).fingerprint()), "the fingerprint of the saved file")


@then("the saved fingerprint differs from the memory's current fingerprint")
def step_saved_fingerprint_other(context: Any) -> None:
    """The save's answer names a fingerprint other than the default memory's: it wrote another
    memory."""
    saved = last_json(context)["fingerprint"]
    assert_that(saved, is_not(equal_to(api(context).fingerprint())),
                "the saved file should hold the named memory, not the default one")


@then("the load reports the size the save reported")
def step_load_size(context: Any) -> None:
    """The load's answer has the ``bytes`` the save of the same file answered."""
    assert_that(last_json(context)["bytes"], equal_to(noted(context, "saved")["bytes"]),
                "bytes in the load's answer: the size of the file it read")


@then('the memory list gives "{name}" the modification time of the file in the memory folder')
@skips_when_unsupported
def step_list_modified(context: Any, name: str) -> None:
    """The list's ``modified`` for ``name`` is the file's modification time, in Unix seconds
    (within 2 s, for rounding and coarse file-system clocks)."""
    on_disk = (current_server(context).require_memory_dir() / name).stat().st_mtime
    modified = api(context).list_entries()[name]["modified"]
    assert_that(modified, close_to(on_disk, 2.0),
                f"modified of {name} in the list, against the file's own time {on_disk}")


@then('the memory file "{name}" has the format version {version:Int} layout')
@skips_when_unsupported
def step_format(context: Any, name: str, version: int) -> None:
    """Magic, the version field, a JSON header whose array table tiles the bytes up to the
    trailer, and a trailer that is the SHA-256 of every byte before it (docs/api.md)."""
    data = (current_server(context).require_memory_dir() / name).read_bytes()
    problems = memfile.format_problems(data, version)
    assert not problems, f"{name} is not a format {version} memory file: {'; '.join(problems)}"


@then('the memory list shows "{name}" with the size the save reported')
def step_list_size(context: Any, name: str) -> None:
    """GET /v1/atlas/memory/list has ``name`` with the bytes the save answered."""
    files = api(context).list_files()
    assert_that(files, has_key(name), "the memory list")
    assert_that(files[name], equal_to(noted(context, "saved")["bytes"]), f"bytes of {name}")


@then('the memory list shows "{name}"')
def step_list_shows(context: Any, name: str) -> None:
    """GET /v1/atlas/memory/list has ``name``."""
    assert_that(api(context).list_files(), has_key(name), "the memory list")


@then('the memory list does not show "{name}"')
def step_list_lacks(context: Any, name: str) -> None:
    """GET /v1/atlas/memory/list does not have ``name``."""
    assert_that(api(context).list_files(), not_(has_key(name)), "the memory list")


@then('the status names "{name}" as the memory\'s source')
def step_source(context: Any, name: str) -> None:
    """``memory.source`` in the status is the file the memory was loaded from."""
    source = api(context).status()["memory"]["source"]
    assert_that(isinstance(source, str) and source.endswith(name), equal_to(True),
                f"memory.source should name {name}, but is {source!r}")


@then('the memory folder holds "{name}"')
@skips_when_unsupported
def step_folder_holds(context: Any, name: str) -> None:
    """The file exists in the server's memory folder."""
    folder = current_server(context).require_memory_dir()
    assert_that((folder / name).is_file(), equal_to(True),
                f"{name} not in {sorted(p.name for p in folder.iterdir())}")


@then('the memory folder holds a file ending in "{suffix}"')
@skips_when_unsupported
def step_folder_suffix(context: Any, suffix: str) -> None:
    """Some file in the server's memory folder ends with ``suffix``."""
    folder = current_server(context).require_memory_dir()
    names = sorted(p.name for p in folder.iterdir())
    assert_that(any(n.endswith(suffix) for n in names), equal_to(True),
                f"no file ending in {suffix} in the memory folder: {names}")


@then("the omega losses are real numbers")
def step_losses_real(context: Any) -> None:
    """Every read in this scenario reported a finite omega loss (or null)."""
    for block in noted(context, "reads"):
        loss = block["omega_loss"]
        assert_that(loss is None or math.isfinite(loss), equal_to(True), str(block))
