"""A tiny, random-weight but valid llama-architecture GGUF model, for tests.

Tests sometimes need "another model": a second GGUF that llama.cpp (``xllamacpp``) loads and
serves, but whose weights (in particular ``token_embd``) differ from the default model's, so a
memory file made for one model is rejected by the other. :func:`write_tiny_model` writes such a
file in milliseconds, deterministically from a seed (same seed, same bytes), a few hundred KB.

What the file holds:

* ``general.architecture = "llama"`` with every hyperparameter llama.cpp reads for it
  (context length, embedding length, block count, feed-forward length, head counts, RMS-norm
  epsilon, rope dimension count and frequency base).
* F32 tensors ``token_embd``, ``output_norm``, ``output`` and, per block, ``attn_norm``,
  ``attn_q``/``attn_k``/``attn_v``/``attn_output``, ``ffn_norm`` and
  ``ffn_gate``/``ffn_up``/``ffn_down``.
  numpy shapes are the reverse of GGUF's ``ne`` order, so ``token_embd`` is stored (and read back
  by :class:`gguf.GGUFReader`) as ``[vocab_size, embedding_length]``.
* A SentencePiece-style (``tokenizer.ggml.model = "llama"``) vocabulary: ``<unk>``, ``<s>``,
  ``</s>``, the 256 byte tokens ``<0x00>``..``<0xFF>`` (so any text tokenizes, by byte fallback),
  the ChatML control tokens ``<|im_start|>``/``<|im_end|>``, then printable-ASCII pieces up to
  ``vocab_size``. A ChatML Jinja chat template makes ``/v1/chat/completions`` work.

Random weights would stop generation at random whenever an end-of-generation token happened to be
sampled, and would emit stray non-UTF-8 bytes. To make completions predictable for tests the
model carries a built-in logit bias: embedding dimension 0 is a constant that no layer writes to,
so after the final norm it is a positive constant, and column 0 of ``output`` pushes the special
tokens and the non-printable byte tokens far down. Generation therefore always runs to
``max_tokens`` and yields printable ASCII.

Command line: ``python -m atlas_models.tiny OUT.gguf [--seed N]`` writes the file and
prints its path.
"""

from __future__ import annotations

import argparse
import string
import sys
from pathlib import Path

import gguf
import numpy as np

ARCH = "llama"

UNK_ID = 0
BOS_ID = 1
EOS_ID = 2
BYTE_OFFSET = 3  # <0x00> is token 3, <0xFF> token 258
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
MIN_VOCAB_SIZE = BYTE_OFFSET + 256 + 2

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

_SPACE = "\u2581"  # SentencePiece's word-boundary marker, what llama.cpp turns spaces into
_SUPPRESSED_LOGIT = -40.0  # how far below the rest the special and non-printable tokens sit


def _vocabulary(vocab_size: int) -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and token types for an SPM vocabulary of exactly ``vocab_size`` entries."""
    if vocab_size < MIN_VOCAB_SIZE:
        raise ValueError(f"vocab_size must be at least {MIN_VOCAB_SIZE}, got {vocab_size}")
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + [IM_START, IM_END]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    types += [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.CONTROL] * 2
    scores = [0.0] * len(tokens)

    # Normal pieces, most useful first: the space marker, printable ASCII characters, then
    # "space + letter" and letter pairs. Their scores rank them for SPM's bigram merges.
    singles = [_SPACE] + [c for c in string.printable if c.isprintable() and c != " "]
    letters = string.ascii_lowercase
    pieces = singles + [_SPACE + c for c in letters] + [a + b for a in letters for b in letters]
    pieces += [_SPACE + a + b for a in letters for b in letters]
    needed = vocab_size - len(tokens)
    if needed > len(pieces):
        limit = len(tokens) + len(pieces)
        raise ValueError(f"vocab_size must be at most {limit}, got {vocab_size}")
    for i, piece in enumerate(pieces[:needed]):
        tokens.append(piece)
        scores.append(-float(i))
        types.append(gguf.TokenType.NORMAL)
    return tokens, scores, [int(t) for t in types]


def _suppressed(tokens: list[str], types: list[int]) -> np.ndarray:
    """Mask of tokens the model must never generate: specials and non-printable bytes."""
    mask = np.zeros(len(tokens), dtype=bool)
    for i, (tok, typ) in enumerate(zip(tokens, types, strict=True)):
        if typ == gguf.TokenType.BYTE:
            byte = int(tok[3:5], 16)
            mask[i] = not (0x20 <= byte <= 0x7E)
        elif typ != gguf.TokenType.NORMAL:
            mask[i] = True
    return mask


def write_tiny_model(
    path: Path,
    *,
    embedding_length: int = 64,
    n_layers: int = 2,
    n_heads: int = 4,
    vocab_size: int = 512,
    seed: int = 0,
) -> Path:
    """Write a tiny random llama GGUF to ``path`` and return the path.

    The bytes depend only on the arguments: the same ``seed`` writes the same file, another seed
    writes different weights (and a different ``general.name``).
    """
    if embedding_length % n_heads:
        raise ValueError("embedding_length must be a multiple of n_heads")
    head_dim = embedding_length // n_heads
    if head_dim % 2:
        raise ValueError("embedding_length / n_heads must be even (rope rotates pairs)")
    n_kv_heads = n_heads
    feed_forward_length = 4 * embedding_length
    tokens, scores, types = _vocabulary(vocab_size)
    rng = np.random.default_rng(seed)

    def normal(*shape: int, scale: float) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(path, ARCH)
    writer.add_name(f"atlas-tiny-llama-e{embedding_length}-l{n_layers}-seed{seed}")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_vocab_size(vocab_size)
    writer.add_context_length(2048)
    writer.add_embedding_length(embedding_length)
    writer.add_block_count(n_layers)
    writer.add_feed_forward_length(feed_forward_length)
    writer.add_head_count(n_heads)
    writer.add_head_count_kv(n_kv_heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)

    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(BOS_ID)
    writer.add_eos_token_id(EOS_ID)
    writer.add_unk_token_id(UNK_ID)
    writer.add_pad_token_id(EOS_ID)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_add_space_prefix(True)
    writer.add_chat_template(CHAT_TEMPLATE)

    # Token embeddings: unit-variance rows (distinct directions for whatever reads them), with
    # dimension 0 a constant 1.0 that carries the output bias below.
    token_embd = normal(vocab_size, embedding_length, scale=1.0)
    token_embd[:, 0] = 1.0
    writer.add_tensor("token_embd.weight", token_embd)

    qkv_out = n_heads * head_dim
    kv_out = n_kv_heads * head_dim
    for bid in range(n_layers):
        blk = f"blk.{bid}"
        writer.add_tensor(f"{blk}.attn_norm.weight", np.ones(embedding_length, np.float32))
        writer.add_tensor(f"{blk}.attn_q.weight", normal(qkv_out, embedding_length, scale=0.1))
        writer.add_tensor(f"{blk}.attn_k.weight", normal(kv_out, embedding_length, scale=0.1))
        writer.add_tensor(f"{blk}.attn_v.weight", normal(kv_out, embedding_length, scale=0.1))
        attn_output = normal(embedding_length, qkv_out, scale=0.1)
        attn_output[0, :] = 0.0  # keep residual dimension 0 constant
        writer.add_tensor(f"{blk}.attn_output.weight", attn_output)
        writer.add_tensor(f"{blk}.ffn_norm.weight", np.ones(embedding_length, np.float32))
        writer.add_tensor(
            f"{blk}.ffn_gate.weight", normal(feed_forward_length, embedding_length, scale=0.1)
        )
        writer.add_tensor(
            f"{blk}.ffn_up.weight", normal(feed_forward_length, embedding_length, scale=0.1)
        )
        ffn_down = normal(embedding_length, feed_forward_length, scale=0.1)
        ffn_down[0, :] = 0.0
        writer.add_tensor(f"{blk}.ffn_down.weight", ffn_down)

    writer.add_tensor("output_norm.weight", np.ones(embedding_length, np.float32))
    output = normal(vocab_size, embedding_length, scale=1.0 / np.sqrt(embedding_length))
    output[:, 0] = 0.0
    output[_suppressed(tokens, types), 0] = _SUPPRESSED_LOGIT
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the .gguf")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embedding-length", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--vocab-size", type=int, default=512)
    args = parser.parse_args(argv)
    out = write_tiny_model(
        args.out,
        embedding_length=args.embedding_length,
        n_layers=args.layers,
        n_heads=args.heads,
        vocab_size=args.vocab_size,
        seed=args.seed,
    )
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
