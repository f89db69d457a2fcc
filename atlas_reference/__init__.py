"""Reference ATLAS server: llama.cpp inference (xllamacpp) plus a real ATLAS memory."""

__version__ = "0.1.0"
