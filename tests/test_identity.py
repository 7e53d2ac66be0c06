"""Identity by source (issue 15): a file read from a folder is known by its path, an upload
by its name; documents indexed before keep their ids."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kb.ingest import Source
from kb.knowledge_base import KnowledgeBase

Factory = Callable[..., KnowledgeBase]


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_same_name_files_in_two_folders_are_two_documents(fake_kb: Factory, tmp_path: Path) -> None:
    share = _tree(
        tmp_path / "share",
        {
            "hr/notes.md": "# HR notes\n\nHoliday requests go to Hanna by the 10th.\n",
            "it/notes.md": "# IT notes\n\nLaptops are renewed every four years.\n",
            "README.md": "# Share\n\nWhat lives where.\n",
        },
    )
    base = fake_kb()
    first = base.ingest_paths([share])
    assert sorted((o.name, o.status) for o in first) == [
        ("README.md", "indexed"),
        ("hr/notes.md", "indexed"),
        ("it/notes.md", "indexed"),
    ]
    docs = {d.name: d for d in base.documents()}
    assert docs["hr/notes.md"].doc_id != docs["it/notes.md"].doc_id
    assert docs["hr/notes.md"].source == str((share / "hr" / "notes.md").resolve())
    assert base.search("holiday requests Hanna", 1, mode="keyword")[0].name == "hr/notes.md"
    assert base.search("laptops renewed", 1, mode="keyword")[0].name == "it/notes.md"

    again = base.ingest_paths([share])  # unchanged: nothing re-embedded, no duplicates
    assert {o.status for o in again} == {"unchanged"} and len(base.documents()) == 3
    # The same file reached through its own folder is the same document.
    [via_subfolder] = base.ingest_paths([share / "hr"])
    assert via_subfolder.status == "unchanged"
    assert via_subfolder.doc_id == docs["hr/notes.md"].doc_id

    (share / "it" / "notes.md").write_text("# IT notes\n\nLaptops are renewed every 3 years.\n")
    changed = {o.name: o.status for o in base.ingest_paths([share])}
    assert changed["it/notes.md"] == "replaced" and changed["hr/notes.md"] == "unchanged"
    [reindexed] = base.reindex(["it/notes.md"])
    assert reindexed.status == "reindexed" and reindexed.doc_id == docs["it/notes.md"].doc_id
    assert len(base.documents()) == 3 and base.check() == []


def test_a_folder_file_takes_over_the_document_of_the_same_name_without_a_source(
    fake_kb: Factory, tmp_path: Path
) -> None:
    """An upgraded data dir (or an upload): ids stay, a folder ingest replaces, not duplicates."""
    base = fake_kb()
    [upload] = base.ingest([Source("policy.md", b"# Policy\n\nVersion one.\n")])
    assert base.document("policy.md").source is None
    folder = _tree(tmp_path / "docs", {"policy.md": "# Policy\n\nVersion two.\n"})
    [synced] = base.ingest_paths([folder])
    assert synced.status == "replaced" and synced.doc_id == upload.doc_id
    doc = base.document("policy.md")
    assert doc.source == str((folder / "policy.md").resolve()) and len(base.documents()) == 1
    # An upload is known by its name, as before: it replaces this document, whose source
    # stays the folder's file (that the two now differ is for the staleness check to say).
    [again] = base.ingest([Source("policy.md", b"# Policy\n\nA draft from e-mail.\n")])
    assert again.status == "replaced" and again.doc_id == upload.doc_id
    assert base.document("policy.md").source == doc.source and len(base.documents()) == 1
