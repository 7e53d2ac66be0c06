"""Every sample format parses, embeds and answers with the network unreachable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_DOCS

pytestmark = pytest.mark.slow  # real model, AppTest, subprocesses or servers

# Runs in a fresh interpreter so that nothing loaded earlier hides a run-time download:
# every socket connection and DNS lookup raises and is recorded before kb is imported.
_OFFLINE_SCRIPT = r"""
import json, socket, sys

attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise OSError("network is unreachable (offline test)")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from pathlib import Path
import kb
from kb.config import load_settings
from kb.knowledge_base import KnowledgeBase
from kb.ingest.parsing import parse
from kb.ingest.sniff import sniff

docs, data = Path(sys.argv[1]), Path(sys.argv[2])
texts = {}
for f in sorted(docs.iterdir()):
    if f.suffix == ".yaml":
        continue
    raw = f.read_bytes()
    blocks = parse(sniff(raw, f.name), raw, f.name)
    texts[f.name] = sum(len(b.text) for b in blocks)
base = KnowledgeBase(load_settings(data_dir=data))
outcomes = base.ingest_paths([docs])
answer = base.ask("How many days do I have to submit an expense claim?")
print(json.dumps({
    "texts": texts,
    "statuses": [o.status for o in outcomes],
    "answer": answer.text,
    "cited": [(c.name, c.page) for c in answer.citations],
    "attempts": attempts,
}))
"""


def test_all_formats_parse_embed_and_answer_offline(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT, str(SAMPLE_DOCS), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    kinds = {Path(name).suffix for name in report["texts"]}
    assert kinds >= {".pdf", ".docx", ".pptx", ".xlsx", ".html", ".md", ".txt", ".eml", ".csv"}
    assert all(n > 200 for n in report["texts"].values()), report["texts"]
    assert set(report["statuses"]) == {"indexed"}
    assert "45 days" in report["answer"]
    assert report["cited"][0] == ["employee-handbook.pdf", 4]
    assert report["attempts"] == []  # nothing even tried to reach the network
