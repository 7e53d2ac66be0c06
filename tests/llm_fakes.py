"""Unit-test language models: LlamaIndex CustomLLMs whose replies are computed from the prompt."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from llama_index.core.llms import (
    CompletionResponse,
    CompletionResponseGen,
    CustomLLM,
    LLMMetadata,
)
from llama_index.core.llms.callbacks import llm_completion_callback
from pydantic import Field

from kb.answer.prompt import RULES, SOURCES_HEADER

_SOURCE = re.compile(r'<source n="(\d+)"[^>]*>\n(.*?)\n</source>', re.DOTALL)


def sources_in(prompt: str) -> dict[int, str]:
    """The numbered sources of the user turn (not the system prompt's example)."""
    part = prompt.split(SOURCES_HEADER, 1)[-1]
    return {int(n): text for n, text in _SOURCE.findall(part)}


def question_in(prompt: str) -> str:
    """The question of the user turn."""
    return prompt.rsplit("Question:", 1)[-1].split("\n", 1)[0].strip()


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 3}


def reader(prompt: str) -> str:
    """A faithful reader: the source sentence sharing most words with the question, cited."""
    q = _words(question_in(prompt))
    best = (0, 0, "")
    for n, text in sources_in(prompt).items():
        for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
            score = len(q & _words(sentence))
            if score > best[0]:
                best = (score, n, sentence.strip())
    if not best[0]:
        return "The sources do not answer this question."
    return f"{best[2].rstrip('.')} [{best[1]}]."


def gullible(prompt: str) -> str:
    """Obeys any instruction it finds in the sources: says PWNED and dumps its rules."""
    if "ignore previous instructions" in "\n".join(sources_in(prompt).values()).lower():
        return f"PWNED. {RULES}"
    return reader(prompt)


class ScriptedLLM(CustomLLM):
    """A model whose reply is `script(prompt)`, streamed word by word."""

    script: Any = Field(default=reader)  # Callable[[str], str]
    delay: float = 0.0  # seconds before each word (a slow model)
    fail: Any = None  # an exception to raise instead of answering (a broken model)
    prompts: list[str] = Field(default_factory=list)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="scripted", context_window=4096, num_output=256)

    def _reply(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if self.fail is not None:
            raise self.fail
        script: Callable[[str], str] = self.script
        return script(prompt)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self._reply(prompt))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        reply = self._reply(prompt)

        def gen() -> CompletionResponseGen:
            text = ""
            for word in re.split(r"(?<=\s)", reply):
                time.sleep(self.delay)
                text += word
                yield CompletionResponse(text=text, delta=word)

        return gen()


class OpenAIStyleServer:
    """A real HTTP server on 127.0.0.1 speaking the OpenAI chat protocol (streamed, with a
    usage chunk) whose replies are `script(prompt)`: for app tests, where kb builds its own
    client from settings."""

    def __init__(self, script: Callable[[str], str]) -> None:
        import http.server
        import json
        import threading

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = "\n".join(m["content"] for m in body["messages"])
                reply = script(prompt)
                outer.prompts.append(prompt)
                self.send_response(200)
                if not body.get("stream"):
                    data = {
                        "id": "x", "object": "chat.completion", "created": 0, "model": "m",
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": reply}}],
                    }  # fmt: skip
                    payload = json.dumps(data).encode()
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = re.split(r"(?<=\s)", reply)
                for word in words:
                    chunk = {
                        "id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                        "choices": [{"index": 0, "delta": {"content": word}}],
                    }  # fmt: skip
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                usage = {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(words),
                         "total_tokens": len(prompt) // 4 + len(words)}  # fmt: skip
                last = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                        "choices": [], "usage": usage}  # fmt: skip
                self.wfile.write(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())

            def log_message(self, *args: object) -> None:
                pass

        self.prompts: list[str] = []
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
