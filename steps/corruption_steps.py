"""Damaging memory files on disk the way the real world does, and what load must answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import parse
from behave import then, when
from hamcrest import assert_that, contains_string, equal_to

from atlas_suite import memfile
from atlas_suite.atlas import expect_ok
from atlas_suite.config import ServerConfig
from atlas_suite.http import describe_text
from atlas_suite.memfile import Damage, RegionName
from atlas_suite.schemas import registry
from atlas_suite.steplib import types
from atlas_suite.steplib.catalogue import deprecated
from atlas_suite.steplib.support import (
    api,
    current_server,
    last,
    noted,
    notes,
    skips_when_unsupported,
    use_server,
)
from atlas_suite.targets import Unsupported
from atlas_suite.texts import long_prompt

DOMAIN = "memory files"
OTHER_MODEL_FILE = "made-for-another-model.atlas"

# how a server refuses a memory file it cannot use: the status and words the contract names
REFUSALS = {
    "corruption": (400, "corruption"),
    "an unsupported format version": (400, "unsupported memory file version"),
    "a model mismatch": (409, "model mismatch"),
}


@parse.with_pattern("|".join(REFUSALS))
def parse_refusal(text: str) -> tuple[int, str]:
    """Why a memory file is refused: corruption, an unsupported format version, a model
    mismatch."""
    return REFUSALS[text]


types._register(Refusal=parse_refusal)


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
    """Damage a file in the server's memory folder: "corrupted at byte 100" (writes the 14
    bytes CORRUPTED_DATA there), "corrupted by one flipped byte at byte 100" (flips bits of that
    one byte; the size stays the same), "truncated to 50 bytes", "cut short by 32 bytes", "emptied",
    "stamped with a wrong magic", "stamped with format version 2" (checksum recomputed),
    "replaced by a memory from another model"."""
    path = current_server(context).require_memory_dir() / name
    if damage.needs_other_model:
        data = _memory_from_other_model(context)
        path.write_bytes(data)
    else:
        assert path.is_file(), f"{name} is not in the memory folder"
        damage.apply_to_file(path)


@then("the load is refused as {refusal:Refusal}")
def step_refused_as(context: Any, refusal: tuple[int, str]) -> None:
    """The load was refused in the error envelope with the status and words the contract names
    for this reason: corruption (400), an unsupported format version (400), a model mismatch
    (409)."""
    _check_refusal(context, *refusal)


@then('the load is refused with {status:Status} and a message containing "{text}"')
@deprecated("the load is refused as {refusal}")
def step_refused(context: Any, status: int, text: str) -> None:
    """Deprecated: use `the load is refused as {refusal}`."""
    _check_refusal(context, status, text)


def _check_refusal(context: Any, status: int, text: str) -> None:
    """The last answer is ``status`` in the error envelope and its message contains ``text``."""
    reply = last(context)
    assert_that(reply.status, equal_to(status),
                f"expected the server to reject the damaged memory file with {status}, but it "
                f"answered {describe_text(reply.status, reply.text)}")
    assert_that(registry().errors("error", reply.json()), equal_to([]), reply.text)
    message = reply.json()["error"]["message"]
    assert_that(message.lower(), contains_string(text.lower()),
                f'the error message should say "{text}"')


# -- damage located from the file's own array table --------------------------------------------
SCRATCH_FILE = "damaged-copy.atlas"


def _memory_file(context: Any, name: str) -> Path:
    path = current_server(context).require_memory_dir() / name
    assert path.is_file(), f"{name} is not in the memory folder"
    return path


def _locate(data: bytes, region: RegionName) -> memfile.Region:
    try:
        return region.locate(data)
    except LookupError as exc:
        raise Unsupported(str(exc)) from None


@when('one byte of the memory file "{name}" is flipped in {region:Region}')
@skips_when_unsupported
def step_flip_in(context: Any, name: str, region: RegionName) -> None:
    """Change one bit of the middle byte of a region ("the header", "the momentum array",
    "the trailer", ...), found from the file's own array table; the size stays the same."""
    path = _memory_file(context, name)
    data = path.read_bytes()
    path.write_bytes(memfile.flip_byte(data, _locate(data, region).middle))


@when('the memory file "{name}" is stamped with CORRUPTED_DATA in {region:Region}')
@skips_when_unsupported
def step_stamp_in(context: Any, name: str, region: RegionName) -> None:
    """Write the 14 bytes CORRUPTED_DATA in the middle of a region (from its
    start when the region is shorter); the size stays the same."""
    path = _memory_file(context, name)
    data = path.read_bytes()
    path.write_bytes(memfile.stamp(data, _locate(data, region)))


@when('the memory file "{name}" is truncated {cut:Cut}')
@skips_when_unsupported
def step_truncate_at(context: Any, name: str, cut: str) -> None:
    """Cut the file short at a point named from its layout: "inside the header", "inside the
    first array", "inside the last array", "just before the trailer", "inside the trailer",
    "one byte short"."""
    path = _memory_file(context, name)
    path.write_bytes(memfile.truncate_at(path.read_bytes(), cut))


@when('the memory file "{name}" has its trailer recomputed over a changed {part:ForgedPart}')
@skips_when_unsupported
def step_forge(context: Any, name: str, part: str) -> None:
    """Change one part of the file ("header length", "array table", "first array",
    "model fingerprint") and write a valid SHA-256 trailer over the change, so only the checks
    behind the checksum can catch it."""
    path = _memory_file(context, name)
    path.write_bytes(memfile.forge(path.read_bytes(), part))


@when('the memory file "{name}" is resealed around the arrays of "{donor}"')
@skips_when_unsupported
def step_splice(context: Any, name: str, donor: str) -> None:
    """Keep this file's prefix and header, put the arrays of another saved memory under them,
    and write a valid trailer: a well-formed file whose header describes another memory."""
    path = _memory_file(context, name)
    path.write_bytes(memfile.splice(path.read_bytes(), _memory_file(context, donor).read_bytes()))


@when('every region of the memory file "{name}" in turn gets {harm:Harm} and is loaded')
@skips_when_unsupported
def step_every_region(context: Any, name: str, harm: str) -> None:
    """For each region of the file (prefix fields, header, every array of its table, trailer),
    load a copy harmed in that region only; the answers are kept for the next Then."""
    data = _memory_file(context, name).read_bytes()
    _load_copies(context, memfile.region_copies(data, harm))


@when('one byte at a time is flipped at {count:Int} offsets across the memory file "{name}" '
      'and each copy is loaded')
@skips_when_unsupported
def step_sweep(context: Any, count: int, name: str) -> None:
    """Load, one after another, copies of the file with a single byte flipped: at least
    ``count`` deterministic offsets over the whole file, every region's first, middle and last
    byte among them; the answers are kept for the next Then."""
    data = _memory_file(context, name).read_bytes()
    _load_copies(context, memfile.flipped_copies(data, memfile.sweep_offsets(data, count)))


def _load_copies(context: Any, copies: list[memfile.DamagedCopy]) -> None:
    folder = current_server(context).require_memory_dir()
    notes(context)["before"] = api(context).memory_in_use()  # for "the memory in use is unchanged"
    try:
        notes(context)["attempts"] = api(context).load_each(folder, SCRATCH_FILE, copies)
    finally:
        (folder / SCRATCH_FILE).unlink(missing_ok=True)


@then("every damaged copy was refused as corruption")
def step_all_refused(context: Any) -> None:
    """Each damaged copy loaded by the previous step was answered 400 with "corruption" in the
    message; the failure lists every copy that was not, with its region and the answer."""
    attempts = noted(context, "attempts")
    missed = [a.describe() for a in attempts if not a.refused_as_corruption]
    assert not missed, (
        f"{len(missed)} of {len(attempts)} damaged copies were not refused as corruption "
        "(400, message containing \"corruption\"):\n  " + "\n  ".join(missed))
