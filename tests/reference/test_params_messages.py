"""Chat messages the engine cannot render are a 400 naming the field, never the engine's 500."""

from __future__ import annotations

import pytest

from atlas_reference.errors import ApiError
from atlas_reference.params import check_messages


@pytest.mark.parametrize(("messages", "param"), [
    (None, "messages"), ([], "messages"), ("hi", "messages"), (["hi"], "messages[0]"),
    ([{"role": True, "content": "x"}], "messages[0].role"),
    ([{"role": "user", "content": "x"}, {"role": None}], "messages[1].role"),
    ([{"role": "user", "content": 5}], "messages[0].content"),
])
def test_unrenderable_messages_are_refused_with_their_field(messages: object, param: str) -> None:
    with pytest.raises(ApiError) as refused:
        check_messages(messages)
    assert (refused.value.status, refused.value.param) == (400, param)


def test_ordinary_messages_pass() -> None:
    check_messages([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": None},
                    {"role": "user", "content": [{"type": "text", "text": "x"}]}])
