"""The models the suite and the reference server both use, owned by neither.

* :mod:`atlas_models.fetch`: the default test model (SmolLM2-135M-Instruct), fetched once into
  ``~/.cache/atlas-reference/models`` (``$ATLAS_MODEL_DIR``). Standard library only.
* :mod:`atlas_models.tiny`: a tiny random-weight llama GGUF, "another model" for tests
  (``python -m atlas_models.tiny OUT.gguf``). Needs ``gguf`` and ``numpy``, so it is imported
  only by whoever writes one.

Neither imports the suite or the reference server, so the suite can be installed and run
without the reference server's engine.
"""

from atlas_models.fetch import default_model_path, fetch_model, model_cache_dir

__all__ = ["default_model_path", "fetch_model", "model_cache_dir"]
