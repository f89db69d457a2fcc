"""Memory files: save, load, list and delete ``.atlas`` files in the memory folder."""

from __future__ import annotations

from typing import Any

from behave import given, then, when
from hamcrest import assert_that, close_to, equal_to, has_key, is_not, not_

from atlas_suite import memfile
from atlas_suite.atlas import expect_ok, expect_refusal
from atlas_suite.schemas import registry
from atlas_suite.steplib import types  # noqa: F401 - typed parameters
from atlas_suite.steplib.catalogue import sets_response
from atlas_suite.steplib.support import (
    api,
    current_server,
    last,
    last_json,
    noted,
    notes,
    skips_when_unsupported,
)

DOMAIN = "memory files"


def _answered(context: Any, schema: str, doing: str) -> dict[str, Any]:
    """The last answer, which must be a 2xx in ``schema``'s shape."""
    body = expect_ok(last(context), doing)
    problems = registry().errors(schema, body)
    assert not problems, f"the answer to {doing} is not in the {schema} shape: {problems}"
    return dict(body)


# -- saving -------------------------------------------------------------------------------------
@given('the memory is saved as "{name}"')
def step_given_saved(context: Any, name: str) -> None:
    """Save the default memory to ``name`` (it must succeed); what the save answered and the
    memory in use at that moment are kept for later Thens."""
    notes(context)["saved"] = expect_ok(api(context).save(name), f'save the memory as "{name}"')
    notes(context)["in use when saved"] = api(context).memory_in_use()


@when('I save the memory as "{name}"')
@sets_response
def step_save(context: Any, name: str) -> None:
    """Save the default memory to ``name``; the save's answer is "the response"."""
    in_use = api(context).memory_in_use()
    reply = api(context).save(name)
    if reply.status == 200:
        notes(context)["saved"] = reply.json()
        notes(context)["in use when saved"] = in_use


@then('the memory file "{name}" holds the memory as it is now')
def step_saved_ok(context: Any, name: str) -> None:
    """The save succeeded, in the documented shape, for the default memory: it answers this file
    name, the memory "default", and the fingerprint the memory has now."""
    body = _answered(context, "memory_save", f'save the memory as "{name}"')
    assert_that((body["filename"], body["memory"]), equal_to((name, "default")),
                "the file name and the memory the save answered")
    assert_that(body["fingerprint"], equal_to(api(context).fingerprint()),
                "the fingerprint of the saved file: the memory's own")


# -- loading ------------------------------------------------------------------------------------
@when('I load the memory file "{name}"')
@sets_response
def step_load(context: Any, name: str) -> None:
    """Load ``name`` into the default memory; the load's answer is "the response"."""
    notes(context)["before"] = api(context).memory_in_use()  # for "the memory in use is unchanged"
    api(context).load(name)


@then('the memory is back as it was when saved to "{name}"')
def step_back_as_saved(context: Any, name: str) -> None:
    """The load succeeded, in the documented shape, naming the file and the size the save
    answered; the memory's fingerprint, counters and omega loss are those it had when saved,
    and the status names the file as the memory's source."""
    body = _answered(context, "memory_load", f'load the memory file "{name}"')
    saved = noted(context, "saved")
    assert_that((body["filename"], body["bytes"]), equal_to((name, saved["bytes"])),
                "the file name and size the load answered, against the save's")
    now = api(context).memory_in_use()
    changes = [c for c in noted(context, "in use when saved").differences(now)
               if not c.startswith("source")]
    assert not changes, f"the loaded memory is not the one saved: {'; '.join(changes)}"
    assert_that(isinstance(now.source, str) and now.source.endswith(name), equal_to(True),
                f"memory.source should name {name}, but is {now.source!r}")


@then('the load is refused: there is no memory file "{name}"')
def step_load_missing(context: Any, name: str) -> None:
    """The load was answered 404 in the error envelope."""
    _refused_missing(context, f'load "{name}"')


def _refused_missing(context: Any, doing: str) -> None:
    expect_refusal(last(context), 404, doing)


# -- deleting -----------------------------------------------------------------------------------
@when('I delete the memory file "{name}"')
@sets_response
def step_delete(context: Any, name: str) -> None:
    """Delete ``name`` from the memory folder; the delete's answer is "the response"."""
    api(context).delete(name)


@given('the memory file "{name}" has been deleted')
def step_given_deleted(context: Any, name: str) -> None:
    """Delete ``name`` from the memory folder (it must succeed)."""
    expect_ok(api(context).delete(name), f'delete the memory file "{name}"')


@then('the memory file "{name}" is gone')
def step_deleted(context: Any, name: str) -> None:
    """The delete succeeded in the documented shape and the memory list no longer shows the
    file."""
    _answered(context, "memory_delete", f'delete "{name}"')
    assert_that(api(context).list_files(), not_(has_key(name)), "the memory list")


@then('the delete is refused: there is no memory file "{name}"')
def step_delete_missing(context: Any, name: str) -> None:
    """The delete was answered 404 in the error envelope, naming ``filename`` as the problem."""
    _refused_missing(context, f'delete "{name}"')
    assert_that(last_json(context)["error"].get("param"), equal_to("filename"), "error.param")


# -- what the save answered -----------------------------------------------------------------------
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


# -- the list and the folder ----------------------------------------------------------------------
@then('the memory list gives "{name}" the modification time of the file in the memory folder')
@sets_response
@skips_when_unsupported
def step_list_modified(context: Any, name: str) -> None:
    """The list's ``modified`` for ``name`` is the file's modification time, in Unix seconds
    (within 2 s, for rounding and coarse file-system clocks). The list becomes "the response"."""
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
@sets_response
def step_list_size(context: Any, name: str) -> None:
    """The memory list has ``name`` with the bytes the save answered. The list becomes "the
    response" (a following ``the JSON at ...`` reads the list, not the save)."""
    files = api(context).list_files()
    assert_that(files, has_key(name), "the memory list")
    assert_that(files[name], equal_to(noted(context, "saved")["bytes"]), f"bytes of {name}")


@then('the memory list shows "{name}"')
@sets_response
def step_list_shows(context: Any, name: str) -> None:
    """The memory list has ``name``. The list becomes "the response"."""
    assert_that(api(context).list_files(), has_key(name), "the memory list")


@then('the memory list does not show "{name}"')
@sets_response
def step_list_lacks(context: Any, name: str) -> None:
    """The memory list does not have ``name``. The list becomes "the response"."""
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


# -- a save replaces the file whole ---------------------------------------------------------------
@given('a backup reader holds the memory file "{name}" open')
@skips_when_unsupported
def step_hold_file(context: Any, name: str) -> None:
    """Open the file in the memory folder and read it whole, as a backup tool would, keeping it
    open until the scenario ends (a server the suite did not start needs its memory folder
    named: -D memory_dir)."""
    held = memfile.HeldFile(current_server(context).require_memory_dir() / name)
    context.add_cleanup(held.close)
    notes(context)[f"held:{name}"] = held


@then('the backup reader still reads the memory file "{name}" it opened, whole')
def step_held_intact(context: Any, name: str) -> None:
    """The held file reads as it did when opened: the save replaced the file with a complete
    new one (a temporary file, then a rename) instead of rewriting it in place."""
    change = noted(context, f"held:{name}").change_seen()
    assert change is None, change
