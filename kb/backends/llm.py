"""The generator seam: which language model writes answers (none, by default)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kb.errors import ConfigError

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

    from kb.config import Settings


def build_llm(settings: Settings) -> LLM | None:
    """The configured LlamaIndex LLM, or None for the extractive answerer (the offline default).

    Model backends (OpenAI-compatible, Ollama, llama.cpp) plug in here; kb passes the result
    explicitly and never through LlamaIndex's global Settings, whose default calls OpenAI."""
    if settings.llm == "extractive":
        return None
    raise ConfigError(f"KB_LLM={settings.llm!r} is not available; use 'extractive'")
