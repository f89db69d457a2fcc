"""Chat messages and tools the engine cannot read are a 400 naming the field, never the
engine's 500."""

from __future__ import annotations

import pytest

from atlas_reference.errors import ApiError
from atlas_reference.params import check_choices, check_messages, check_tools


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


WEATHER = {"type": "function", "function": {"name": "get_weather",
                                            "parameters": {"type": "object"}}}


@pytest.mark.parametrize(("tools", "param"), [
    ("x", "tools"), ([{"type": "", "function": {"name": "f"}}], "tools[0].type"),
    ([WEATHER, {"type": "function"}], "tools[1].function"),
    ([{"type": "function", "function": {"name": ""}}], "tools[0].function.name"),
    ([{"type": "function", "function": {"name": "f", "parameters": [1]}}],
     "tools[0].function.parameters"),
])
def test_unreadable_tools_are_refused_with_their_field(tools: object, param: str) -> None:
    with pytest.raises(ApiError) as refused:
        check_tools(tools)
    assert (refused.value.status, refused.value.param) == (400, param)


def test_ordinary_tools_pass() -> None:
    check_tools(None)
    check_tools([WEATHER, {"type": "function", "function": {"name": "now"}}])


@pytest.mark.parametrize("prompt", ["", ["a", ""], ["a", []]])
@pytest.mark.parametrize("n", [2, 2.0])
def test_several_choices_of_an_empty_prompt_are_refused_on_the_prompt(prompt: object,
                                                                       n: float) -> None:
    with pytest.raises(ApiError) as refused:
        check_choices({"prompt": prompt, "n": n})
    assert (refused.value.status, refused.value.param) == (400, "prompt")
    assert "2 choices" in refused.value.message


@pytest.mark.parametrize("body", [{"prompt": "", "n": 1}, {"prompt": ""}, {"prompt": "hi", "n": 3},
                                  {"prompt": [1, 2], "n": 2}, {"prompt": "", "n": "2"}])
def test_other_choices_pass_to_the_engine(body: dict) -> None:
    check_choices(body)  # n of another type is the engine's to refuse, with its own 400
