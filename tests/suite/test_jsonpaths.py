from __future__ import annotations

import pytest

from atlas_suite import jsonpaths

DOC = {"error": {"message": "file corruption", "param": None},
       "data": [{"name": "a.atlas"}, {"name": "b.atlas"}],
       "requests": {"by_status": {"200": 3}}}


def test_dotted_path_without_dollar() -> None:
    assert jsonpaths.value_at(DOC, "error.message") == "file corruption"


def test_explicit_dollar_path() -> None:
    assert jsonpaths.value_at(DOC, "$.data[1].name") == "b.atlas"


def test_null_exists_but_missing_does_not() -> None:
    assert jsonpaths.exists(DOC, "error.param")
    assert jsonpaths.value_at(DOC, "error.param") is None
    assert not jsonpaths.exists(DOC, "error.code")


def test_wildcard_gives_a_list() -> None:
    assert jsonpaths.value_at(DOC, "data[*].name") == ["a.atlas", "b.atlas"]


def test_numeric_keys_are_quoted() -> None:
    assert jsonpaths.value_at(DOC, "requests.by_status.'200'") == 3


def test_missing_path_says_what_is_there() -> None:
    with pytest.raises(jsonpaths.PathNotFound, match="corruption"):
        jsonpaths.value_at(DOC, "error.nope")


def test_bad_path_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a JSON path"):
        jsonpaths.compile_path("error..[")
