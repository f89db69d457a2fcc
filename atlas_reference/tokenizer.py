"""llama.cpp's own tokenizer, called in-process: what the engine's ``/tokenize`` answers, without
the HTTP round trip.

xllamacpp embeds llama.cpp in one shared library that exports the C API (``llama.h``); through
``ctypes`` this module loads the model's vocabulary alone (``vocab_only``: no weights) and calls
``llama_tokenize`` with the arguments ``/tokenize`` uses (``add_special`` false,
``parse_special`` true), so the ids are the same. ``llama_model_params`` is passed as raw bytes:
its layout is checked against the defaults llama.cpp returns before anything is loaded, and any
surprise (another llama.cpp, another layout) leaves ``load_vocabulary`` returning None, so the
engine keeps asking ``/tokenize``.
"""

from __future__ import annotations

import ctypes
import logging
import struct
from pathlib import Path

log = logging.getLogger("atlas.tokenizer")

_PARAMS_BYTES = 512  # more than llama_model_params needs: returned and passed in memory
# llama.h (xllamacpp 2026.10): devices, tensor_buft_overrides (pointers at 0, 8); n_gpu_layers,
# split_mode, load_mode, lazy_mode, main_gpu (int32 at 16..32, padding); tensor_split,
# progress_callback, its user data, kv_overrides (pointers at 40..64); then the booleans
# vocab_only, check_tensors, use_extra_bufts, no_host, no_alloc, load_mtp (72..77).
_NULL_POINTERS = (0, 8, 40, 48, 56, 64)
_MAIN_GPU = 32
_VOCAB_ONLY = 72
_DEFAULT_BOOLEANS = bytes([0, 0, 1, 0, 0, 0])  # only use_extra_bufts is true by default


class _Params(ctypes.Structure):
    _fields_ = [("raw", ctypes.c_ubyte * _PARAMS_BYTES)]


class Vocabulary:
    """One model's vocabulary, loaded without weights, and llama.cpp's tokenizer over it."""

    def __init__(self, lib: ctypes.CDLL, model: ctypes.c_void_p, vocab: ctypes.c_void_p) -> None:
        self._lib, self._model, self._vocab = lib, model, vocab

    def tokenize(self, text: str) -> list[int]:
        """The ids ``/tokenize`` gives for ``{"content": text}``; ValueError when llama.cpp
        refuses the text."""
        raw = text.encode("utf-8")
        capacity = len(raw) + 2
        for _ in range(2):  # a negative answer is the size needed: try once more with it
            out = (ctypes.c_int32 * capacity)()
            n = self._lib.llama_tokenize(self._vocab, raw, len(raw), out, capacity, False, True)
            if n >= 0:
                return list(out[:n])
            if n == -(2**31):
                break
            capacity = -n
        raise ValueError("llama.cpp could not tokenize the text")

    def close(self) -> None:
        if self._model:
            self._lib.llama_model_free(self._model)
            self._model = self._vocab = None


def _library() -> ctypes.CDLL:
    import xllamacpp.xllamacpp as native  # already loaded by the engine: the same handle

    lib = ctypes.CDLL(native.__file__)
    lib.llama_model_default_params.restype = _Params
    lib.llama_model_default_params.argtypes = []
    lib.llama_model_load_from_file.restype = ctypes.c_void_p
    lib.llama_model_load_from_file.argtypes = [ctypes.c_char_p, _Params]
    lib.llama_model_get_vocab.restype = ctypes.c_void_p
    lib.llama_model_get_vocab.argtypes = [ctypes.c_void_p]
    lib.llama_model_free.restype = None
    lib.llama_model_free.argtypes = [ctypes.c_void_p]
    lib.llama_tokenize.restype = ctypes.c_int32
    lib.llama_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32,
                                   ctypes.POINTER(ctypes.c_int32), ctypes.c_int32,
                                   ctypes.c_bool, ctypes.c_bool]
    return lib


def _layout_as_expected(raw: bytes) -> bool:
    """The defaults where the layout above puts them: null pointers, main_gpu 0, and the
    booleans' defaults; another layout would not give exactly these bytes."""
    pointers = [struct.unpack_from("<Q", raw, at)[0] for at in _NULL_POINTERS]
    main_gpu = struct.unpack_from("<i", raw, _MAIN_GPU)[0]
    booleans = raw[_VOCAB_ONLY:_VOCAB_ONLY + len(_DEFAULT_BOOLEANS)]
    return not any(pointers) and main_gpu == 0 and booleans == _DEFAULT_BOOLEANS


def load_vocabulary(model_path: Path) -> Vocabulary | None:
    """The model's vocabulary in-process, or None (logged) where that cannot be done safely."""
    try:
        lib = _library()
        params = lib.llama_model_default_params()
        if not _layout_as_expected(bytes(params.raw)):
            log.warning("llama_model_params has an unexpected layout: tokenizing over HTTP")
            return None
        params.raw[_VOCAB_ONLY] = 1
        model = lib.llama_model_load_from_file(str(model_path).encode(), params)
        vocab = lib.llama_model_get_vocab(model) if model else None
    except (OSError, AttributeError, ImportError) as error:
        log.warning("llama.cpp's tokenizer is not callable in-process (%s): over HTTP", error)
        return None
    if not vocab:
        log.warning("%s: the vocabulary did not load in-process: tokenizing over HTTP", model_path)
        return None
    return Vocabulary(lib, model, vocab)
