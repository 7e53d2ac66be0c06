"""Two writers on one data dir (real processes, and the app beside the CLI), and chat that
keeps answering while a re-index runs."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from kb.config import load_settings
from kb.ingest.pipeline import Source
from kb.knowledge_base import KnowledgeBase

from .test_crash import KB, env_for

pytestmark = pytest.mark.slow  # real model, AppTest, subprocesses or servers

KBFactory = Callable[..., KnowledgeBase]


def _corpus(folder: Path, prefix: str, words: list[str], shared: str) -> list[str]:
    folder.mkdir(parents=True)
    names = []
    for n, word in enumerate(words):
        name = f"{prefix}-{n}.md"
        text = f"# {word.title()} notice\n\nThe {word} code for {prefix} is {prefix}{n}-{word}.\n"
        (folder / name).write_text(text * 3)
        names.append(name)
    (folder / "shared.md").write_text(f"# Shared\n\nThe shared note was written by {shared}.\n")
    return names + ["shared.md"]


def _consistent(base: KnowledgeBase, names: list[str]) -> None:
    assert base.check() == []
    assert sorted(d.name for d in base.documents()) == sorted(names)
    for doc in base.documents():
        if doc.name == "shared.md":
            continue
        # Every document is found by its own code, in both legs.
        first = base.store.get([f"{doc.doc_id}:{doc.version}:00000"])
        assert first, doc.name
        code = next(iter(first.values())).text.split(" is ")[1].split(".")[0]
        for mode in ("keyword", "dense"):
            assert doc.name in {h.name for h in base.search(code, 10, mode)}, (doc.name, mode)


def test_two_processes_ingesting_at_once_lose_nothing(
    tmp_path: Path, real_embedding: BaseEmbedding
) -> None:
    data = tmp_path / "data"
    words = ["amber", "birch", "cobalt", "dune", "ember", "fjord"]
    a = _corpus(tmp_path / "a", "alpha", words, "alpha")
    b = _corpus(tmp_path / "b", "beta", words[::-1], "beta")
    procs = [
        subprocess.Popen(
            [KB, "ingest", str(tmp_path / part)],
            env=env_for(data),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for part in ("a", "b")
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    base = KnowledgeBase(load_settings(data_dir=data), embed_model=real_embedding)
    _consistent(base, a + b)  # shared.md twice: one file in each folder, two documents
    shared = [d for d in base.documents() if d.name == "shared.md"]
    texts = sorted(base.original(d.doc_id)[1].decode().split()[-1] for d in shared)
    assert texts == ["alpha.", "beta."]  # each whole, neither lost to the other
    hits = base.search("who wrote the shared note", 3, "keyword")
    assert {h.text.split()[-1] for h in hits[:2]} == {"alpha.", "beta."}


def test_the_app_and_the_cli_write_to_one_data_dir_at_once(
    tmp_path: Path, real_embedding: BaseEmbedding
) -> None:
    data = tmp_path / "data"
    app = KnowledgeBase(load_settings(data_dir=data), embed_model=real_embedding)
    app.ingest([Source("first.md", b"# First\n\nThe first code is kestrel-17.\n")])
    cli_names = _corpus(tmp_path / "cli", "cli", ["glacier", "harbor", "island", "jasper"], "cli")
    cli = subprocess.Popen(
        [KB, "ingest", str(tmp_path / "cli")], env=env_for(data), stderr=subprocess.PIPE
    )
    app_names = ["first.md"]
    deadline = time.monotonic() + 600
    n = 0
    while cli.poll() is None and time.monotonic() < deadline:  # the app uploads meanwhile
        name = f"app-{n}.md"
        app.ingest([Source(name, f"# App {n}\n\nThe app code is lynx-{n}-{n * 7}.\n".encode())])
        app_names.append(name)
        n += 1
        time.sleep(0.2)
    _, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, err[-2000:]
    app.ingest([Source("last.md", b"# Last\n\nThe last code is osprey-99.\n")])
    app_names.append("last.md")
    _consistent(app, app_names + cli_names)  # the app sees the CLI's work, and kept its own
    again = KnowledgeBase(app.settings, embed_model=real_embedding)  # a restart agrees
    _consistent(again, app_names + cli_names)


def test_chat_keeps_answering_while_a_reindex_runs(sample_kb: KnowledgeBase) -> None:
    question = "How many days do I have to submit an expense claim?"
    answers, errors = [], []
    done = threading.Event()

    def reindex() -> None:
        # Re-indexing the sample takes about a second now: go on re-indexing until a few
        # answers have been asked while a re-index runs.
        try:
            for _ in range(20):
                sample_kb.reindex()
                if len(answers) >= 3:
                    break
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=reindex)
    writer.start()
    while not done.is_set():
        started = time.perf_counter()
        answer = sample_kb.ask(question)
        answers.append((answer.found, "45 days" in answer.text, time.perf_counter() - started))
    writer.join()
    assert errors == []
    assert len(answers) >= 3, answers
    assert all(found and right for found, right, _ in answers), answers
    assert sample_kb.check() == []
