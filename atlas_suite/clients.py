"""Driving the official ``openai`` Python client against the server under test."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import openai

NO_KEY = "sk-no-key-required"  # the client insists on some key; keyless servers ignore it


def sync_client(base_url: str, api_key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=api_key or NO_KEY,
                         max_retries=0, timeout=120)


def async_client(base_url: str, api_key: str | None = None) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key=api_key or NO_KEY,
                              max_retries=0, timeout=120)


def _extra(atlas: dict[str, Any] | None) -> dict[str, Any]:
    return {"extra_body": {"atlas": atlas}} if atlas is not None else {}


@dataclass
class ClientOutcome:
    """What a client call produced: the text, the atlas block, and the raw objects."""

    text: str = ""
    atlas: dict[str, Any] | None = None
    objects: list[Any] = field(default_factory=list)


def atlas_block(obj: Any) -> dict[str, Any] | None:
    """The response extension as the client exposes unknown fields (model_extra)."""
    extra = getattr(obj, "model_extra", None) or {}
    block = extra.get("atlas")
    if block is None and hasattr(obj, "to_dict"):
        block = obj.to_dict().get("atlas")
    return block


def first_model(client: openai.OpenAI) -> str:
    return client.models.list().data[0].id


def chat(client: openai.OpenAI, prompt: str, *, max_tokens: int,
         atlas: dict[str, Any] | None = None) -> ClientOutcome:
    reply = client.chat.completions.create(
        model=first_model(client), messages=[{"role": "user", "content": prompt}],
        max_tokens=max_tokens, temperature=0, **_extra(atlas))
    return ClientOutcome(reply.choices[0].message.content or "", atlas_block(reply), [reply])


def completion(client: openai.OpenAI, prompt: str, *, max_tokens: int,
               atlas: dict[str, Any] | None = None) -> ClientOutcome:
    reply = client.completions.create(model=first_model(client), prompt=prompt,
                                      max_tokens=max_tokens, temperature=0, **_extra(atlas))
    return ClientOutcome(reply.choices[0].text, atlas_block(reply), [reply])


def chat_stream(client: openai.OpenAI, prompt: str, *, max_tokens: int,
                atlas: dict[str, Any] | None = None) -> ClientOutcome:
    outcome = ClientOutcome()
    stream = client.chat.completions.create(
        model=first_model(client), messages=[{"role": "user", "content": prompt}],
        max_tokens=max_tokens, temperature=0, stream=True, **_extra(atlas))
    for chunk in stream:
        outcome.objects.append(chunk)
        if chunk.choices and chunk.choices[0].delta.content:
            outcome.text += chunk.choices[0].delta.content
        outcome.atlas = atlas_block(chunk) or outcome.atlas
    return outcome


def chat_async(base_url: str, api_key: str | None, prompt: str, *, max_tokens: int,
               concurrent: int = 1) -> list[ClientOutcome]:
    """``concurrent`` chat calls at once through AsyncOpenAI."""

    async def run() -> list[ClientOutcome]:
        client = async_client(base_url, api_key)
        async with client:
            model = (await client.models.list()).data[0].id

            async def one() -> ClientOutcome:
                reply = await client.chat.completions.create(
                    model=model, messages=[{"role": "user", "content": prompt}],
                    max_tokens=max_tokens, temperature=0)
                return ClientOutcome(reply.choices[0].message.content or "",
                                     atlas_block(reply), [reply])

            return list(await asyncio.gather(*(one() for _ in range(concurrent))))

    return asyncio.run(run())
