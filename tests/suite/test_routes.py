"""The one route table and request-body builder."""

from atlas_suite import routes


def test_a_text_completion_body_is_deterministic_and_leaves_atlas_out_unless_given() -> None:
    body = routes.completion_body("m", "hello", max_tokens=4)
    assert body == {"model": "m", "max_tokens": 4, "temperature": 0, "seed": 42,
                    "prompt": "hello"}


def test_a_chat_body_streams_with_the_atlas_extension_and_extra_openai_fields() -> None:
    body = routes.completion_body("m", "hi", max_tokens=2, chat=True, stream=True,
                                  atlas=routes.atlas_extension(window_size=None, memory="x"),
                                  stop=["\n"])
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["atlas"] == {"enabled": True, "memory": "x"}
    assert body["stream"] is True and body["stop"] == ["\n"]
    assert routes.completion_path(chat=True) == routes.CHAT_COMPLETIONS


def test_every_atlas_route_is_under_the_atlas_prefix_and_listed_once() -> None:
    paths = [(r.method, r.path) for r in routes.ROUTES]
    assert len(paths) == len(set(paths))
    assert all(r.path.startswith("/v1/atlas/") == r.atlas for r in routes.ROUTES)
