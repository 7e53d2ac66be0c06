"""The learning loop through the CLI (issue 16): answers by id, feedback, `kb gaps` labels
from the stored trace and the correction, `kb export finetune` of behaviour only."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kb.errors import NotFoundError
from kb.quality import Record
from kb.quality.records import Feedback
from kb.quality.triage import holds, label_case, normalize
from tests.conftest import SAMPLE_DOCS
from tests.test_cli import kb

NOTE = "# Lab notes\n\nThe Zephyr-9 calibration rig is stored in cabinet Q-17 in the basement.\n"


def _ask(question: str, data: Path) -> dict[str, object]:
    out = kb("ask", question, "--json", data=data)
    assert out.returncode == 0, out.stderr
    answer: dict[str, object] = json.loads(out.stdout)
    assert answer["answer_id"]
    return answer


@pytest.mark.slow  # the real model, in subprocesses
def test_feedback_gaps_and_the_finetune_export_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    note = tmp_path / "lab-notes.md"
    note.write_text(NOTE)
    assert kb("ingest", str(SAMPLE_DOCS), str(note), data=data).returncode == 0

    liked = _ask("How many days do I have to submit an expense claim?", data)
    declined = _ask("What is the recipe for banana bread?", data)
    assert declined["found"] is False
    unknown = _ask("Who is the chief executive of the company?", data)
    missed = _ask("How many days do I have to submit an expense claim?", data)
    wrong = _ask("What is the deadline for expense claims?", data)
    feedback = [
        (liked, ["--up"]),
        (unknown, ["--down", "--correct", "The chief executive is Marta Quistgaard"]),
        (missed, ["--down", "--doc", "lab-notes.md", "--comment", "the rig, not expenses"]),
        (wrong, ["--down", "--correct", "within 45 days of the date of the expense"]),
    ]
    for answer, args in feedback:
        out = kb("feedback", "add", str(answer["answer_id"]), *args, data=data)
        assert out.returncode == 0, out.stderr

    cases = {c["answer_id"]: c for c in json.loads(kb("gaps", "--json", data=data).stdout)}
    assert liked["answer_id"] not in cases  # a thumbs up is not a case
    labels = {k: c["label"] for k, c in cases.items()}
    assert labels == {
        declined["answer_id"]: "missing knowledge",
        unknown["answer_id"]: "missing knowledge",
        missed["answer_id"]: "retrieval miss",
        wrong["answer_id"]: "behaviour gap",
    }
    [given] = [e for e in cases[wrong["answer_id"]]["evidence"] if e["given"]]
    assert given["document"] == "employee-handbook.pdf" and given["rank"] >= 1
    [rig] = cases[missed["answer_id"]]["evidence"]
    assert rig["document"] == "lab-notes.md" and not rig["given"]
    assert "declined" in cases[declined["answer_id"]]["why"]
    assert "no live passage" in cases[unknown["answer_id"]]["why"]

    out = kb("gaps", "--label", str(declined["answer_id"]), "nonsense", data=data)
    assert out.returncode != 0 and "a label is one of" in out.stderr
    assert kb("gaps", "--resolve", str(unknown["answer_id"]), data=data).returncode == 0
    assert kb("gaps", "--label", str(unknown["answer_id"]), "unclear", data=data).returncode == 0
    after = {c["answer_id"]: c for c in json.loads(kb("gaps", "--json", data=data).stdout)}
    case = after[unknown["answer_id"]]
    assert (case["label"], case["overridden"], case["resolved"]) == ("unclear", True, True)
    assert kb("gaps", "--label", str(unknown["answer_id"]), "missing knowledge",
              data=data).returncode == 0  # fmt: skip

    report = kb("gaps", data=data).stdout
    assert "1 behaviour gap, 2 missing knowledge, 1 retrieval miss" in report
    assert "1 person asked about: What is the recipe for banana bread? (once)" in report

    out = kb("export", "finetune", str(tmp_path / "ft.jsonl"), data=data)
    assert out.returncode == 0 and "2 examples" in out.stdout, out.stderr
    lines = [json.loads(x) for x in (tmp_path / "ft.jsonl").read_text().splitlines()]
    assert sorted(x["answer_id"] for x in lines) == sorted(
        [str(liked["answer_id"]), str(wrong["answer_id"])]
    )
    for line in lines:
        roles = [m["role"] for m in line["messages"]]
        assert roles == ["system", "user", "assistant"]
        assert (
            "Question:" in line["messages"][1]["content"]
            and "<source" in line["messages"][1]["content"]
        )
    corrected = next(x for x in lines if x["answer_id"] == wrong["answer_id"])
    assert corrected["messages"][2]["content"].startswith("within 45 days of the date")
    assert "[" in corrected["messages"][2]["content"]  # its citation
    assert "Marta" not in (tmp_path / "ft.jsonl").read_text()  # missing knowledge: never
    out = kb("export", "finetune", str(tmp_path / "dpo.jsonl"), "--format", "dpo", data=data)
    [pair] = [json.loads(x) for x in (tmp_path / "dpo.jsonl").read_text().splitlines()]
    assert pair["answer_id"] == wrong["answer_id"] and "1 preference pair;" in out.stdout
    assert pair["preferred_output"][0]["content"].startswith("within 45 days")
    assert pair["non_preferred_output"][0]["content"] == wrong["answer"]

    # `kb eval golden` keeps each run, and the next run says which questions changed.
    golden = tmp_path / "questions.yaml"
    golden.write_text(
        '- {question: "Where is the Zephyr-9 calibration rig stored?", file: lab-notes.md}\n'
        '- {question: "How many days do I have to submit an expense claim?", '
        "file: employee-handbook.pdf}\n"
    )
    first = kb("eval", "golden", str(golden), data=data)
    assert first.returncode == 0 and "first run of this question set" in first.stdout
    assert kb("docs", "delete", "lab-notes.md", data=data).returncode == 0
    second = kb("eval", "golden", str(golden), "--json", data=data)
    change = json.loads(second.stdout)["change"]
    assert change["now_fail"] == ["Where is the Zephyr-9 calibration rig stored?"]
    assert change["now_pass"] == [] and change["new"] == []


def _record(given: list[str], candidates: list[str]) -> Record:
    hits = [{"chunk_id": c, "doc_id": c.split(":")[0], "scores": {"dense": 0.5}} for c in given]
    return Record("a1", "emma", "2026-12-06", "q?", True,
                  {"hits": hits, "trace": {"fused": [{"id": c} for c in candidates]}})  # fmt: skip


def test_triage_labels_from_the_trace_and_the_correction() -> None:
    down = Feedback("a1", "emma", "now", -1, correct="level two")
    rec = _record(["h:v:00001", "h:v:00002"], ["h:v:00001", "h:v:00002", "p:v:00007"])
    assert label_case(rec, down, [("h:v:00002", "hr.md")], None)[0] == "behaviour gap"
    label, _, [ev] = label_case(rec, down, [("p:v:00007", "parking.md")], None)
    assert (label, ev.rank, ev.given) == ("retrieval miss", 3, False)
    label, _, [ev] = label_case(rec, down, [("q:v:00001", "q.md")], None)
    assert (label, ev.rank) == ("retrieval miss", None)
    assert "was not retrieved" in ev.sentence()
    assert label_case(rec, down, [], None)[0] == "missing knowledge"
    named = Feedback("a1", "emma", "now", -1, doc="parking.md")
    assert label_case(rec, named, [], ("p", "parking.md"))[0] == "retrieval miss"
    assert label_case(rec, named, [], ("h", "hr.md"))[0] == "behaviour gap"
    bare = Feedback("a1", "emma", "now", -1)
    label, why, _ = label_case(rec, bare, [], None)
    assert label == "unclear" and "say what was right" in why
    assert label_case(rec, None, [], None)[0] == "missing knowledge"  # declined
    assert holds("Visitors park on Level  Two.", "level two") and not holds("level 2", "level two")
    assert normalize("  Within 45 days. ") == "within 45 days"


def test_answers_and_cases_leak_nothing_outside_a_documents_groups(
    fake_kb: Callable[..., Any],
) -> None:
    from kb.errors import NotFoundError, PermissionDeniedError
    from kb.ingest import Source
    from kb.security import Principal

    base = fake_kb()
    base.ingest([Source("hr.md", b"# HR\n\nThe HR budget for 2027 is 412 thousand crowns.\n")])
    emma, lars = Principal("emma", "employee"), Principal("lars", "employee", ("lab",))
    admin = Principal("boss", "admin")
    chat = base.start_conversation("HR budget?", user=emma)
    answer = base.ask("What is the HR budget for 2027?", user=emma, conversation=chat)
    assert "412" in answer.text and base.answer_record(answer.answer_id, user=emma)
    with pytest.raises(NotFoundError):
        base.conversation(chat, user=lars)  # not the owner
    with pytest.raises(NotFoundError):
        base.answer_record(answer.answer_id, user=lars)  # not the asker
    with pytest.raises(NotFoundError):
        base.give_feedback(answer.answer_id, False, correct="412", user=lars)
    base.give_feedback(answer.answer_id, False, correct="412 thousand crowns", user=emma)
    for call in (lambda: base.cases(actor=emma), lambda: base.finetune_data(actor=emma)):
        with pytest.raises(PermissionDeniedError):
            call()  # cases and exports are for admins
    base.set_groups("hr.md", ["hr"], actor=admin)  # emma loses access
    with pytest.raises(NotFoundError, match="no longer available to you"):
        base.answer_record(answer.answer_id, user=emma)
    [(_, old)] = base.conversation(chat, user=emma)  # her own chat: the answer is withdrawn
    # timings excepted: a duration like 0.004126 holds the digits too
    assert "412" not in repr(replace(old, timings={})) and "no longer available" in old.text
    assert base.answer_record(answer.answer_id, user=admin).found
    [case] = base.cases(actor=admin)
    assert case.label == "behaviour gap"

    base.set_groups("hr.md", ["everyone"], actor=admin)
    base.delete("hr.md", actor=admin)  # deleted: the passages go, the answer's place stays
    seen = base.answer_record(answer.answer_id, user=emma)
    assert all(h["text"].startswith("(deleted on ") for h in seen.given)
    assert "412" not in repr(seen.given) and not seen.data["prompt"]
    [(_, old)] = base.conversation(chat, user=emma)
    assert [c.text for c in old.citations] == [""] and old.citations[0].gone.startswith("deleted")


def test_chats_unused_past_the_retention_are_deleted(fake_kb: Callable[..., Any]) -> None:
    from sqlalchemy import text

    from kb.ingest import Source
    from kb.security import Principal

    base = fake_kb(chat_retention_days=30)
    base.ingest([Source("a.md", b"# A\n\nThe canteen serves soup on Thursdays.\n")])
    emma = Principal("emma", "employee")
    old, new = (base.start_conversation(q, user=emma) for q in ("Soup day?", "Soup again?"))
    answer = base.ask("Which day is soup served?", user=emma, conversation=old)
    base.give_feedback(answer.answer_id, True, user=emma)
    with base.db.write() as conn:  # the first chat was last used 31 days ago
        conn.execute(text("UPDATE conversations SET updated_at='2026-11-01T00:00:00+00:00' "
                          "WHERE id=:i"), {"i": old})  # fmt: skip
    assert [c.id for c in base.conversations(user=emma)] == [new]
    with pytest.raises(NotFoundError):
        base.answer_record(answer.answer_id, user=Principal("boss", "admin"))  # answers too
    assert base.answers.feedback() == {}


def test_a_golden_run_is_compared_with_the_previous_one(tmp_path: Path) -> None:
    from kb.quality.golden import compare, write_golden_file

    before = {"a?": True, "b?": False, "c?": True, "gone?": True}
    change = compare(before, {"a?": False, "b?": True, "c?": True, "d?": False}, "2026-12-01T09:30")
    assert (change.now_fail, change.now_pass, change.new) == (["a?"], ["b?"], ["d?"])
    assert change.lines() == [
        "compared with the previous run (2026-12-01 09:30):",
        "  1 question that passed now fail:",
        "    - a?",
        "  1 question that failed now pass:",
        "    + b?",
        "  1 question new since then",
    ]
    assert compare(before, before, "x").lines()[1] == "  0 questions that passed now fail"

    path = tmp_path / "golden.yaml"
    write_golden_file(path, [{"question": "Q?", "file": "a.pdf", "page": None, "answer": ""}])
    from kb.eval.golden import load_questions

    [q] = load_questions(path)
    assert (q.question, q.file, q.page) == ("Q?", "a.pdf", None)


def test_unanswered_questions_group_by_meaning() -> None:
    from kb.quality.clusters import cluster

    items = [
        ("a1", "emma", "Where do visitors park?"),
        ("a2", "lars", "Visitor parking?"),
        ("a3", "emma", "Banana bread recipe?"),
        ("a4", "emma", "Where can guests park?"),
    ]
    vectors = [[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.9, 0.436]]  # unit vectors
    groups = cluster(items, vectors, threshold=0.55)
    assert [g.answer_ids for g in groups] == [["a1", "a2", "a4"], ["a3"]]
    assert groups[0].line() == "2 people asked about: Where do visitors park? (3 times)"
    assert groups[1].line() == "1 person asked about: Banana bread recipe? (once)"
    assert cluster([], []) == []
