"""Document permissions and roles at the facade: real Chroma, real parsing, the real model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kb.config import load_settings
from kb.errors import KBError, NotFoundError, PermissionDeniedError
from kb.eval.golden import load_questions
from kb.ingest.pipeline import Source
from kb.knowledge_base import KnowledgeBase
from kb.security.principals import EVERYONE, SYSTEM, Principal

from .conftest import SAMPLE_DOCS

RUNBOOK = "security-incident-runbook.pdf"
SALARIES = "hr-salary-bands.md"
SALARY_TEXT = (
    "# Salary bands 2026\n\nConfidential to HR. Band zephyrine pays 912,000 kroner a year; "
    "the review codename is MARMALADE-7 and the pay freeze lifts in October.\n\n"
    "## Bonuses\n\nThe quokka bonus pool is 4.2 million kroner, split by band.\n"
)
ADMIN = Principal("alice", "admin")
EMPLOYEE = Principal("erik", "employee", frozenset({"sales"}))
HR = Principal("hanna", "employee", frozenset({"hr"}))
SECURITY = Principal("sigrid", "employee", frozenset({"Security"}))  # case does not matter
# Queries aimed at the restricted documents, on top of every sample question.
TARGETED = [
    "salary band zephyrine",
    "MARMALADE-7 review codename",
    "quokka bonus pool",
    "how much does band zephyrine pay",
    "hr salary bands",
    "security incident runbook",
    "who do I call when there is a security incident",
    "ransomware",
    "incident severity levels",
    "Confidential to HR",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The tests that open their own knowledge base run on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture(scope="module")
def restricted_kb(
    tmp_path_factory: pytest.TempPathFactory, real_embedding: BaseEmbedding
) -> KnowledgeBase:
    """sample_docs with the runbook open to 'security' only, plus an HR-only document."""
    data = tmp_path_factory.mktemp("perm") / "data"
    base = KnowledgeBase(load_settings(data_dir=data), embed_model=real_embedding)
    base.ingest_paths([SAMPLE_DOCS], actor=ADMIN)
    base.ingest([Source(SALARIES, SALARY_TEXT.encode())], groups=["hr"], actor=ADMIN)
    base.set_groups(RUNBOOK, ["security"], actor=ADMIN)
    return base


def _restricted(base: KnowledgeBase) -> tuple[set[str], set[str], set[str]]:
    """(doc ids, names and chunk texts) the employee must never see."""
    docs = [d for d in base.documents() if d.name in (RUNBOOK, SALARIES)]
    ids = {d.doc_id for d in docs}
    texts = {c.text for c in base.store.iter_all() if c.meta.get("doc_id") in ids}
    return ids, {d.name for d in docs} | {"security-incident-runbook", "salary-bands"}, texts


def _leaks(shown: str, ids: set[str], names: set[str], texts: set[str]) -> list[str]:
    found = [x for x in ids | names if x in shown]
    return found + [t[:40] for t in texts if t in shown]


def test_a_user_outside_the_groups_sees_nothing_of_restricted_documents(
    restricted_kb: KnowledgeBase,
) -> None:
    base = restricted_kb
    ids, names, texts = _restricted(base)
    assert len(ids) == 2 and len(texts) >= 3
    queries = [q.question for q in load_questions(SAMPLE_DOCS / "questions.yaml")] + TARGETED
    assert len(queries) >= 40
    leaks: list[tuple[str, str, list[str]]] = []
    for query in queries:
        for mode in ("hybrid", "dense", "keyword"):
            trace = base.trace(query, 10, mode, user=EMPLOYEE)
            shown = repr((trace.dense, trace.keyword, trace.fused, trace.hits))
            if found := _leaks(shown, ids, names, texts):
                leaks.append((query, mode, found))
        answer = base.ask(query, user=EMPLOYEE)
        shown = repr((answer.text, answer.extract, answer.citations, answer.hits, answer.trace))
        shown = shown.replace(repr(query), "")  # the question echoed back is the user's own
        if found := _leaks(shown, ids, names, texts):
            leaks.append((query, "ask", found))
        cited = {c.doc_id for c in answer.citations} | {h.doc_id for h in answer.hits}
        for doc_id in cited:
            base.original(doc_id, user=EMPLOYEE)  # what is cited can be opened
    assert leaks == []
    # The same targeted queries do reach the documents for users in their groups.
    assert SALARIES in {h.name for h in base.search("band zephyrine", 5, user=HR)}
    assert RUNBOOK in {h.name for h in base.search("security incident runbook", 5, user=SECURITY)}
    assert {h.name for h in base.search("quokka bonus pool", 5, "keyword", user=ADMIN)} >= {
        SALARIES
    }


def test_documents_chunks_and_originals_refuse_what_the_user_may_not_read(
    restricted_kb: KnowledgeBase,
) -> None:
    base = restricted_kb
    ids, names, _ = _restricted(base)
    listed = {d.name for d in base.documents(user=EMPLOYEE)}
    assert listed and not listed & names
    assert {RUNBOOK, SALARIES} <= {d.name for d in base.documents(user=ADMIN)}
    assert SALARIES in {d.name for d in base.documents(user=HR)}
    restricted_chunks = [c for c in base.store.all_ids() if c.rsplit(":", 2)[0] in ids]
    assert base.chunks(restricted_chunks, user=EMPLOYEE) == {}
    assert set(base.chunks(restricted_chunks, user=ADMIN)) == set(restricted_chunks)
    for target in [*ids, RUNBOOK, SALARIES]:
        with pytest.raises(NotFoundError) as refused:
            base.original(target, user=EMPLOYEE)
        with pytest.raises(NotFoundError) as missing:
            base.original("no-such-file.pdf", user=EMPLOYEE)
        # Refused and missing read alike: the refusal does not confirm the document exists.
        assert str(refused.value).replace(target, "X") == str(missing.value).replace(
            "no-such-file.pdf", "X"
        )
        with pytest.raises(NotFoundError):
            base.document(target, user=EMPLOYEE)
    assert base.original(SALARIES, user=HR)[1] == SALARY_TEXT.encode()


def test_changing_groups_takes_effect_at_once_in_every_process_view(
    restricted_kb: KnowledgeBase, real_embedding: BaseEmbedding
) -> None:
    base = restricted_kb
    other = KnowledgeBase(base.settings, embed_model=real_embedding)  # another session/process

    def finds(kb: KnowledgeBase) -> bool:
        return any(
            h.name == SALARIES for h in kb.search("band zephyrine pay", 5, user=EMPLOYEE)
        ) or any(h.name == SALARIES for h in kb.ask("band zephyrine pay", user=EMPLOYEE).hits)

    assert not finds(base) and not finds(other)
    base.set_groups(SALARIES, ["hr", "sales"], actor=ADMIN)
    try:
        assert finds(base) and finds(other)
        assert SALARIES in {d.name for d in other.documents(user=EMPLOYEE)}
        other.set_groups(SALARIES, ["hr"], actor=ADMIN)
        assert not finds(base) and not finds(other)
        base.set_groups(SALARIES, [EVERYONE], actor=ADMIN)
        assert finds(base) and finds(other)
    finally:
        base.set_groups(SALARIES, ["hr"], actor=ADMIN)
    assert not finds(base)
    assert base.check() == []


def test_replacing_a_document_keeps_its_groups_unless_new_ones_are_given(
    make_kb: Callable[..., KnowledgeBase],
) -> None:
    base = make_kb()
    base.ingest([Source("pay.md", b"# Pay\n\nBand A pays well.\n")], groups=["hr"], actor=ADMIN)
    [out] = base.ingest([Source("pay.md", b"# Pay\n\nBand A pays better now.\n")], actor=ADMIN)
    assert out.status == "replaced" and base.document("pay.md").groups == ("hr",)
    [same] = base.ingest(
        [Source("pay.md", b"# Pay\n\nBand A pays better now.\n")], groups=["hr", "finance"]
    )
    assert same.status == "unchanged" and base.document("pay.md").groups == ("finance", "hr")
    base.ingest([Source("open.md", b"# Canteen\n\nSoup on Thursdays.\n")])
    assert base.document("open.md").groups == (EVERYONE,)
    for bad in ([], ["has space"], ["<script>"]):
        with pytest.raises(KBError, match="group"):
            base.set_groups("pay.md", bad, actor=ADMIN)
    assert base.document("pay.md").groups == ("finance", "hr")


def test_an_employee_reaches_no_admin_action(
    make_kb: Callable[..., KnowledgeBase], tmp_path: Path
) -> None:
    base = make_kb()
    base.ingest([Source("pay.md", b"# Pay\n\nBand A pays well.\n")], groups=["hr"])
    before = (base.registry.list(), sorted(base.store.all_ids()), base.registry.stamp())
    file = tmp_path / "x.md"
    file.write_text("# X\n\nSomething new.\n")
    actions: dict[str, Callable[[], object]] = {
        "ingest": lambda: base.ingest([Source("x.md", b"# X\n\nnew\n")], actor=EMPLOYEE),
        "ingest_paths": lambda: base.ingest_paths([file], actor=EMPLOYEE),
        "delete": lambda: base.delete("pay.md", actor=EMPLOYEE),
        "reindex": lambda: base.reindex(actor=EMPLOYEE),
        "set_groups": lambda: base.set_groups("pay.md", [EVERYONE], actor=EMPLOYEE),
        "repair": lambda: base.repair(actor=EMPLOYEE),
        "audit_events": lambda: base.audit_events(actor=EMPLOYEE),
        "audit_csv": lambda: base.audit_csv(actor=EMPLOYEE),
    }
    for name, call in actions.items():
        with pytest.raises(PermissionDeniedError, match="admin role"):
            call()
        # A look-alike that is not a Principal gets no further.
        fake = type("Fake", (), {"name": "mallory", "role": "admin", "is_admin": True})()
        if name == "delete":
            with pytest.raises(PermissionDeniedError):
                base.delete("pay.md", actor=fake)  # type: ignore[arg-type]
    assert (base.registry.list(), sorted(base.store.all_ids()), base.registry.stamp()) == before
    denied = [e for e in base.audit_events(actor=ADMIN) if e.action == "denied"]
    assert len(denied) == len(actions) + 1 and {e.actor for e in denied} == {"erik", "mallory"}


def test_the_audit_log_records_who_did_what_and_cannot_be_rewritten(
    make_kb: Callable[..., KnowledgeBase],
) -> None:
    base = make_kb()
    base.ingest(
        [Source("pay.md", b"# Pay\n\nBand A pays 50 crowns.\n")], groups=["hr"], actor=ADMIN
    )
    base.ingest([Source("pay.md", b"# Pay\n\nBand A pays 60 crowns.\n")], actor=ADMIN)
    base.set_groups("pay.md", ["hr", "finance"], actor=ADMIN)
    base.ask("What does band A pay?", user=HR)
    base.ask("What does band A pay?", user=EMPLOYEE)
    base.record_event(HR, "sign_in", method="password")
    base.delete("pay.md", actor=ADMIN)
    events = list(reversed(base.audit_events(actor=ADMIN)))
    got = [(e.actor, e.action) for e in events]
    assert got == [
        ("alice", "upload"),
        ("alice", "replace"),
        ("alice", "set_groups"),
        ("hanna", "ask"),
        ("erik", "ask"),
        ("hanna", "sign_in"),
        ("alice", "delete"),
    ]
    asked = [e for e in events if e.action == "ask"]
    assert asked[0].detail["names"] == ["pay.md"] and asked[0].detail["query"].startswith("What")
    assert asked[1].detail["names"] == [] and asked[1].detail["doc_ids"] == []
    assert events[2].detail["before"] == ["hr"] and events[2].detail["after"] == ["finance", "hr"]
    assert all(e.at > 1.7e9 for e in events)
    csv_text = base.audit_csv(actor=ADMIN)
    assert csv_text.splitlines()[0] == "seq,time_utc,actor,action,detail"
    assert len(csv_text.splitlines()) == len(events) + 1
    assert base.audit.verify() == []
    for sql in ("UPDATE events SET actor='x'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"), base.db.engine.begin() as conn:
            conn.execute(text(sql))
    guard = "events_no_update_delete ON events" if base.db.shared else "events_no_update"
    with base.db.engine.begin() as conn:  # someone drops the guard and edits a row
        conn.execute(text(f"DROP TRIGGER {guard}"))
        conn.execute(text("UPDATE events SET actor='nobody' WHERE seq=4"))
    assert base.audit.verify() == ["audit event 4 was altered or a row before it removed"]


def test_system_is_an_admin_and_principals_compare_groups_case_blind() -> None:
    assert SYSTEM.is_admin and SYSTEM.can_see(["hr"])
    assert SECURITY.can_see(["security"]) and not SECURITY.can_see(["hr"])
    assert EMPLOYEE.can_see([EVERYONE]) and not EMPLOYEE.can_see([])


def test_the_store_filter_names_the_shorter_list_and_the_keyword_mask_matches() -> None:
    from kb.index.keyword import KeywordIndex
    from kb.index.snapshot import Snapshot
    from kb.search.retrieval import Scope

    groups = {"a": ("everyone",), "b": ("everyone",), "c": ("hr",), "d": ("sales",)}
    active = dict.fromkeys(groups, "v1")
    ids = [f"{d}:v1:0000{n}" for d in groups for n in range(2)]
    index = KeywordIndex.build(ids, [f"text {d}" for d in ids], 1, (0.9, 0.5))
    view = Snapshot(index, active, groups, (1, 1))
    assert Scope.of(view, ADMIN).where is None and Scope.of(view, ADMIN).allowed is None
    sales = Scope.of(view, EMPLOYEE)  # sees a, b, d: one forbidden document
    assert sales.where == {"doc_id": {"$nin": ["c"]}} and sales.allowed == {"a", "b", "d"}
    nobody = Principal("x", "employee", frozenset({"nobody"}))
    view_few = Snapshot(index, active, {**groups, "b": ("hr",)}, (1, 2))
    few = Scope.of(view_few, nobody)  # sees only a: the allowed list is shorter
    assert few.where == {"doc_id": {"$in": ["a"]}}
    for scope in (sales, few):
        mask = index.mask(scope.allowed, scope.forbidden)
        assert mask is not None
        shown = {cid for cid, keep in zip(index.ids, mask, strict=True) if keep}
        assert shown == {cid for cid in ids if scope.permits(cid)}
    assert not sales.permits("c:v1:00000") and sales.permits("d:v1:00001")
