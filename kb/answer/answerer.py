"""Answering a question: rewrite a follow-up, retrieve what the asker may read, then let the
model write (checked against its sources) or quote extractively, falling back on failure."""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import LLM

from kb.answer.extractive import NOT_FOUND, Answer, Quote, extractive_answer, is_relevant
from kb.answer.generation import check_output, generate, messages, prompt_text, rewrite_followup
from kb.answer.names import missing_names
from kb.backends.llm import describe, token_counter
from kb.config import Settings
from kb.errors import GenerationError
from kb.search.retrieval import Hit, Searcher
from kb.security.principals import Principal


class Answerer:
    """Turns a question (and the chat so far) into an Answer, streaming its text."""

    def __init__(
        self, settings: Settings, searcher: Searcher, embed_model: BaseEmbedding, llm: LLM | None
    ) -> None:
        self.settings, self.searcher, self.embed_model, self.llm = (
            settings,
            searcher,
            embed_model,
            llm,
        )

    def answer(
        self, question: str, k: int | None, history: Sequence[Answer], user: Principal
    ) -> Generator[str, None, Answer]:
        """Yield the answer's text in pieces; return the finished Answer."""
        s = self.settings
        timings: dict[str, float] = {}
        t = time.perf_counter()
        past = [(a.question, a.query or a.question, a.text) for a in history]
        query, how = rewrite_followup(question, past, self.llm, s.llm_timeout, describe(s))
        if how:
            timings["rewrite"] = time.perf_counter() - t
        t = time.perf_counter()
        trace = self.searcher.trace(query, k, user=user)
        timings["retrieval"] = time.perf_counter() - t
        extra: dict[str, Any] = {"query": query, "rewrite": how, "trace": trace}
        if not is_relevant(trace.hits, s.min_relevance, query):
            return Answer(question, NOT_FOUND, [], trace.hits, False, timings=timings, **extra)
        absent = missing_names(query, trace.hits, self.searcher.term_share)
        if absent:  # the passages are about something else: say what was looked for
            extra["extract"] = f"no passage given mentions {', '.join(absent)}"
            return Answer(question, NOT_FOUND, [], trace.hits, False, timings=timings, **extra)
        t = time.perf_counter()
        text, citations, extract = extractive_answer(
            query, trace.hits, self.embed_model.get_text_embedding_batch
        )
        if self.llm is not None:
            # Instant first, better later: the quotes are on screen in a fraction of a second,
            # the model's checked answer replaces them when it is ready.
            timings["quotes"] = time.perf_counter() - t
            yield Quote(text)
            t = time.perf_counter()
            try:
                answer = yield from self._generated(question, query, trace.hits, timings, extra)
                return answer
            except GenerationError as exc:
                extra["error"] = str(exc)
                timings["model (failed)"] = time.perf_counter() - t
        else:
            timings["generation"] = time.perf_counter() - t
        method = "extractive (fallback)" if "error" in extra else "extractive"
        answer = Answer(
            question, text, citations, trace.hits, True, method, extract, timings, **extra
        )
        if "error" not in extra:  # after a failed model, the page shows the final answer
            yield from answer.stream()
        return answer

    def _generated(
        self,
        question: str,
        query: str,
        hits: list[Hit],
        timings: dict[str, float],
        extra: dict[str, Any],
    ) -> Generator[str, None, Answer]:
        assert self.llm is not None
        s = self.settings
        msgs = messages(query, hits)
        extra["prompt"] = prompt_text(msgs)  # shown by the inspector even when the model fails
        raw, tokens, times = yield from generate(
            self.llm, msgs, s.llm_timeout, describe(s), token_counter(self.llm)
        )
        timings.update(times)
        extra.update(tokens=tokens, raw=raw)
        out = check_output(raw, hits, s.verify_threshold)
        method = self.method()
        return Answer(
            question, out.text, out.citations, hits, True, method, "", timings,
            checks=out.checks, **extra,
        )  # fmt: skip

    def method(self) -> str:
        """How answers are written: 'model: NAME' (or 'extractive' without a model)."""
        if self.llm is None:
            return "extractive"
        return f"model: {Path(self.llm.metadata.model_name).name}"
