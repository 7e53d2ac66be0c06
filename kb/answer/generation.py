"""Answers written by a language model: streamed, timed out, checked against their sources."""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kb.answer.extractive import Answer, Citation
from kb.answer.followup import (
    clean_rewrite,
    history_text,
    is_followup,
    rewrite_heuristic,
    without_connector,
)
from kb.answer.prompt import (
    REWRITE_PROMPT,
    SYSTEM_PROMPT,
    defuse,
    is_no_answer,
    leaks_prompt,
    passage_text,
    user_message,
)
from kb.answer.verify import SentenceCheck, verify_citations
from kb.backends.llm import model_lock
from kb.errors import GenerationError
from kb.search.retrieval import Hit

if TYPE_CHECKING:
    from llama_index.core.llms import LLM, ChatMessage

# Where a model that keeps going past its answer starts a new turn or echoes the prompt.
_RUNOFF = re.compile(r"\n\s*(?:Question:|Sources?\b|User:|<)|<\|im_end\|>|</s>")
_ANSWER_LABEL = re.compile(r"^\s*(?:(?:Answer|Assistant)\s*:|<source[^>]*>)\s*", re.IGNORECASE)
CHARS_PER_TOKEN = 4  # English text, for servers that report no token counts
MAX_HEADING_WORDS = 8  # a heading is a few words; an answer that long is checked as one


def messages(question: str, hits: Sequence[Hit]) -> list[ChatMessage]:
    """The system prompt and the user turn with the numbered, labelled sources."""
    from llama_index.core.llms import ChatMessage, MessageRole

    return [
        ChatMessage(role=MessageRole.SYSTEM, content=SYSTEM_PROMPT),
        ChatMessage(role=MessageRole.USER, content=user_message(question, hits)),
    ]


def prompt_text(msgs: Sequence[ChatMessage]) -> str:
    """The messages as one readable text (source inspector)."""
    return "\n\n".join(f"[{m.role.value}]\n{m.content}" for m in msgs)


def describe_failure(exc: BaseException, where: str) -> str:
    """One line a user can act on, from whatever the model client raised."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if isinstance(exc, ConnectionError) or "Connect" in name or "connect" in str(exc)[:80]:
        return f"the language model at {where} is unreachable; check that it runs (KB_LLM_*)"
    if "Timeout" in name:
        return f"the language model at {where} timed out (KB_LLM_TIMEOUT)"
    if status:
        return f"the language model at {where} answered with HTTP {status}"
    detail = " ".join(str(exc).split())[:120]
    return f"the language model at {where} failed ({name}: {detail})"


@dataclass
class ModelStream:
    """The model's text deltas, produced in a worker thread so that a silent model times out."""

    llm: LLM
    msgs: Sequence[ChatMessage]
    timeout: float
    where: str
    first_token: float | None = None
    usage: dict[str, int] = field(default_factory=dict)
    deltas: int = 0

    def __iter__(self) -> Iterator[str]:
        box: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()

        def work() -> None:
            try:
                with model_lock(self.llm):
                    for response in self.llm.stream_chat(self.msgs):
                        if stop.is_set():
                            break
                        counts = response.additional_kwargs or {}
                        if "prompt_tokens" in counts:
                            box.put(("usage", counts))
                        box.put(("delta", response.delta or ""))
                box.put(("done", None))
            except Exception as exc:  # every client error becomes one GenerationError below
                box.put(("error", exc))

        threading.Thread(target=work, daemon=True, name="kb-llm").start()
        started = time.perf_counter()
        try:
            while True:
                try:
                    kind, value = box.get(timeout=self.timeout)
                except queue.Empty:
                    raise GenerationError(
                        f"the language model at {self.where} sent nothing for "
                        f"{self.timeout:g} s (KB_LLM_TIMEOUT)"
                    ) from None
                if kind == "error":
                    raise GenerationError(describe_failure(value, self.where)) from value
                if kind == "done":
                    return
                if kind == "usage":
                    self.usage = {
                        "prompt": int(value["prompt_tokens"]),
                        "completion": int(value["completion_tokens"]),
                    }
                elif value:
                    if self.first_token is None:
                        self.first_token = time.perf_counter() - started
                    self.deltas += 1
                    yield value
        finally:
            stop.set()  # a model still writing stops at its next token


def run_model(llm: LLM, msgs: Sequence[ChatMessage], timeout: float, where: str) -> str:
    """The model's whole reply (non-streaming use: rewriting follow-ups)."""
    return "".join(ModelStream(llm, msgs, timeout, where))


def rewrite_followup(
    question: str,
    history: Sequence[tuple[str, str, str]],
    llm: LLM | None,
    timeout: float,
    where: str,
) -> tuple[str, str]:
    """(standalone query, how) for `question` after `history` of (question, query, answer).

    Only questions that read as follow-ups are rewritten; the model does it when one is
    configured, and the heuristic when there is none or its rewrite is unusable."""
    if not history or not is_followup(question):
        return without_connector(question), ""
    queries = [q for _, q, _ in history]
    if llm is not None:
        from llama_index.core.llms import ChatMessage, MessageRole

        turns = history_text([(q, a) for q, _, a in history])
        content = REWRITE_PROMPT.format(history=defuse(turns), question=defuse(question))
        try:
            ask = [ChatMessage(role=MessageRole.USER, content=content)]
            reply = run_model(llm, ask, timeout, where)
        except GenerationError:
            reply = ""
        rewritten = clean_rewrite(reply, question, queries[-1])
        if rewritten:
            return rewritten, "model"
    return rewrite_heuristic(question, queries), "heuristic"


def clean_output(text: str) -> str:
    """The answer without the model running on into a new turn or repeating its label."""
    text = _ANSWER_LABEL.sub("", text)
    cut = _RUNOFF.search(text)
    return (text[: cut.start()] if cut else text).strip()


@dataclass
class Checked:
    """A generated answer after post-processing: text, sentence checks, citations."""

    text: str
    checks: list[SentenceCheck]
    citations: list[Citation]


def _only_a_heading(text: str, hits: Sequence[Hit]) -> bool:
    """Whether the answer is no more than a passage's heading ("Driving and taxis [1]"): the
    1.5B model answered 4 of 52 sample questions so."""
    words = re.sub(r"\[\d+\]|[^\w\s]", " ", text).lower().split()
    if not words or len(words) > MAX_HEADING_WORDS:
        return False
    said = " ".join(words)
    return any(said in " ".join(re.sub(r"[^\w\s]", " ", h.heading).lower().split()) for h in hits)


def check_output(raw: str, hits: Sequence[Hit], threshold: float) -> Checked:
    """Clean, verify and renumber a model's answer; GenerationError when it is unusable.

    Unusable: empty, repeating the system prompt, saying the sources do not answer, or with no
    sentence its sources back (kb then shows the extractive answer, so an instruction planted
    in a document cannot make it say something no source says)."""
    text = clean_output(raw)
    sources = [h.text for h in hits]
    if not text or not re.search(r"\w", text):
        raise GenerationError("the language model returned an empty answer")
    if leaks_prompt(text, sources):
        raise GenerationError("the language model's answer repeated its instructions")
    if _only_a_heading(text, hits):
        raise GenerationError("the language model's answer only repeats a section heading")
    if is_no_answer(text):
        # The passages passed kb's relevance and name checks; a small model says "not in the
        # sources" where they hold the fact (the 1.5B model did for 10 of the 52 sample
        # questions), so the quotes stay, with the model's verdict beside them.
        raise GenerationError("the language model found no answer in the passages")
    # Checked against what the model read (instructions to assistants removed).
    passages = {n: passage_text(h) for n, h in enumerate(hits, 1)}
    checked = verify_citations(text, passages, threshold)
    # Small models loop: a sentence said twice is said once.
    unique = {c.text.lower(): c for c in reversed(checked.sentences)}
    checked.sentences = [c for c in checked.sentences if unique.get(c.text.lower()) is c]
    claims = [c for c in checked.sentences if c.cited or not c.supported]
    backed = [c for c in claims if c.supported]
    if not backed:
        raise GenerationError("the language model's answer is not backed by the sources")
    if len(backed) * 2 < len(claims):
        raise GenerationError("most of the language model's answer is not backed by the sources")
    # Markers in order of first use, so the answer reads [1], [2]...; the sources keep them.
    order: dict[int, int] = {}
    for c in checked.sentences:
        for n in c.cited:
            order.setdefault(n, len(order) + 1)
        c.cited = [order[n] for n in c.cited]
    citations = [
        Citation(new, h.doc_id, h.name, h.page, h.heading, h.text, h.chunk_id)
        for old, new in order.items()
        for h in [hits[old - 1]]
    ]
    return Checked(checked.text, checked.sentences, citations)


class AnswerStream:
    """The answer's text as it is written; `answer` is the final, checked Answer."""

    def __init__(self, steps: Generator[str, None, Answer]) -> None:
        self._steps = steps
        self._answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        self._answer = yield from self._steps
        return self._answer  # type: ignore[return-value]

    @property
    def answer(self) -> Answer:
        """The final answer (reads the rest of the stream first)."""
        if self._answer is None:
            for _ in self:
                pass
        assert self._answer is not None
        return self._answer


def generate(
    llm: LLM,
    msgs: Sequence[ChatMessage],
    timeout: float,
    where: str,
    count: Callable[[str], int | None],
) -> Generator[str, None, tuple[str, dict[str, int], dict[str, float]]]:
    """Stream the model's answer; returns (raw text, token counts, timings)."""
    stream = ModelStream(llm, msgs, timeout, where)
    started = time.perf_counter()
    parts = []
    for delta in stream:
        parts.append(delta)
        yield delta
    raw = "".join(parts)
    timings = {} if stream.first_token is None else {"first token": stream.first_token}
    timings["generation"] = time.perf_counter() - started
    tokens = dict(stream.usage)
    if not tokens:
        prompt_tokens = count(str((llm.messages_to_prompt or prompt_text)(msgs)))
        tokens = {"prompt": prompt_tokens or len(prompt_text(msgs)) // CHARS_PER_TOKEN}
        tokens["completion"] = count(raw) or stream.deltas
        if prompt_tokens is None:
            tokens["estimated"] = 1
    return raw, tokens, timings
