"""An optional, offline semantic signal: sentence vectors from a model shipped inside a package.

`load_embedder()` returns an `Embedder` backed by WordLlama's default 256-dimension model, which
lives in the `wordllama` wheel itself. It is loaded once per process, from the installed package's
own folder with downloads disabled, so nothing is fetched at run time and the same text gives the
same vector everywhere. When the package is missing or `AWS_QUIZ_SEMANTIC=off`, it returns None
and callers rank on words alone.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into unit-length vectors whose dot product is their cosine similarity."""

    def embed(self, texts: list[str]) -> Any: ...


class _WordLlamaEmbedder:
    def __init__(self, model: Any) -> None:
        self._model = model

    def embed(self, texts: list[str]) -> Any:
        return self._model.embed(texts, norm=True)


@lru_cache(maxsize=1)
def load_embedder() -> Embedder | None:
    """The process's embedder, or None when semantics are switched off or unavailable."""
    if os.environ.get("AWS_QUIZ_SEMANTIC", "on").strip().lower() in {"off", "0", "false", "no"}:
        return None
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError:
        log.info("wordllama is not installed; lookup ranks on words alone")
        return None
    try:
        model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    except (OSError, ValueError) as error:  # a damaged install must not take lookup down
        log.warning("the semantic model could not be loaded (%s); lookup ranks on words alone",
                    error)
        return None
    return _WordLlamaEmbedder(model)
