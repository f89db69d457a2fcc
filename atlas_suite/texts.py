"""Texts the scenarios feed the memory, kept here so feature files stay readable."""

from __future__ import annotations

_SENTENCES = (
    "The harbour master logged every ship that entered the bay before dawn.",
    "Grey gulls circled the fishing boats while the nets were hauled aboard.",
    "In the market square the bakers sold warm bread to the early travellers.",
    "A slow river carried fallen leaves past the mill and under the stone bridge.",
    "The librarian sorted old maps of the coast by the year they were drawn.",
)


def long_prompt(approx_tokens: int = 300) -> str:
    """A plain English prompt of roughly ``approx_tokens`` tokens (about 14 per sentence)."""
    sentences = []
    while len(sentences) * 14 < approx_tokens:
        sentences.append(_SENTENCES[len(sentences) % len(_SENTENCES)])
    return " ".join(sentences)
