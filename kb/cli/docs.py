"""`kb docs`: list (and the stale report), show, set an owner or review date, versions,
delete."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kb.cli.common import emit, open_kb
from kb.config import Settings

if TYPE_CHECKING:  # only types here: `kb --help` loads no engine
    from kb.index import Document, Stale
    from kb.knowledge_base import KnowledgeBase


def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    """kb docs list [--stale] | show | set | delete."""
    base = open_kb(settings)
    if args.docs_command == "delete":
        kept = len(base.versions(args.id))
        doc = base.delete(args.id)
        earlier = f" and {kept} earlier version{'s' * (kept != 1)}" if kept else ""
        print(f"deleted {doc.name} ({doc.doc_id}, {doc.chunks} chunks){earlier}")
        return 0
    if args.docs_command == "versions":
        return _versions(base, args.id, args.json)
    if args.docs_command == "show":
        return _show(
            base.document(args.id), base.stale().get(base.document(args.id).doc_id, []), args.json
        )
    if args.docs_command == "set":
        from kb.index import Change
        from kb.security import SYSTEM

        change = Change(args.owner, args.review_by, args.superseded_by, args.reviewed)
        return _show(base.set_lifecycle(args.id, change, actor=SYSTEM), [], False)
    docs, stale = base.documents(), base.stale()
    cited = base.cited() if args.stale else {}
    if args.stale:  # the stale report: most cited first, as on the Admin page
        docs = sorted((d for d in docs if d.doc_id in stale), key=lambda d: -cited.get(d.doc_id, 0))
    if args.json:
        emit(
            [
                {
                    **d.to_dict(),
                    "stale": [s.to_dict() for s in stale.get(d.doc_id, [])],
                    **({"cited_30_days": cited.get(d.doc_id, 0)} if args.stale else {}),
                }
                for d in docs
            ]
        )
        return 0
    for d in docs:
        pages = f"{d.pages}p" if d.pages else "-"
        print(
            f"{d.doc_id:<52} {d.name:<40} {d.kind:<5} {pages:>5} {d.chunks:>5} chunks "
            f"{d.size / 1024:>8.1f} KB  {d.ingested_at}"
        )
        for s in stale.get(d.doc_id, []):
            print(f"    stale: {s.detail}")
        if args.stale:
            n = cited.get(d.doc_id, 0)
            print(f"    cited by {n} answer{'s' * (n != 1)} in the last 30 days")
    chunks = sum(d.chunks for d in docs)
    if args.stale:
        print(f"{len(docs)} stale documents, {chunks} chunks")
    else:
        print(f"{len(docs)} documents, {chunks} chunks; {len(stale)} stale")
    return 0


def _versions(base: KnowledgeBase, id_or_name: str, as_json: bool) -> int:
    """The live version and the replaced ones kept, newest first."""
    doc, kept = base.document(id_or_name), base.versions(id_or_name)
    if as_json:
        live = {**{k: getattr(doc, k) for k in _VERSION_FIELDS}, "state": "current"}
        emit([live, *({**v.to_dict(), "state": "superseded"} for v in kept)])
        return 0
    print(f"{doc.name} ({doc.doc_id})")
    print(f"  {doc.version}  current     indexed {doc.ingested_at}  {doc.chunks} chunks")
    for v in kept:
        print(
            f"  {v.version}  superseded  indexed {v.ingested_at}  {v.chunks} chunks, "
            f"replaced {v.superseded_at} by {v.superseded_by}"
        )
    print(f"{len(kept)} earlier version{'s' * (len(kept) != 1)} kept")
    return 0


_VERSION_FIELDS = [
    "doc_id",
    "version",
    "name",
    "kind",
    "size",
    "sha256",
    "pages",
    "chunks",
    "ingested_at",
]


def _show(doc: Document, stale: list[Stale], as_json: bool) -> int:
    """A document's registry entry, lifecycle and parse report."""
    from kb.ingest import summary  # the ingest stage: loaded by the commands that use it

    if as_json:
        emit({**doc.to_dict(), "stale": [s.to_dict() for s in stale]})
        return 0
    pages = f", {doc.pages} pages" if doc.pages else ""
    print(f"{doc.name} ({doc.doc_id}): {doc.kind}{pages}, {doc.chunks} chunks")
    print(f"  version {doc.version}, {doc.size / 1024:.1f} KB, indexed {doc.ingested_at}")
    print(f"  source: {doc.source or 'uploaded'}")
    print(f"  owner: {doc.owner or '-'}; review by: {doc.review_by or '-'}", end="")
    print(f"; reviewed: {doc.reviewed_at}" if doc.reviewed_at else "")
    if doc.superseded_by:
        print(f"  superseded by: {doc.superseded_by}")
    print(f"  open to: {', '.join(doc.groups)}")
    print(f"  parse report: {summary(doc.report)}")
    for s in stale:
        print(f"  stale: {s.detail}")
    return 0


def add_docs_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """The `kb docs` subcommands."""
    p = sub.add_parser("docs", parents=[common], help="list, show, set or delete documents")
    docs = p.add_subparsers(dest="docs_command", required=True)
    d = docs.add_parser("list", parents=[common], help="list documents (and why any is stale)")
    d.add_argument("--json", action="store_true")
    d.add_argument("--stale", action="store_true", help="only stale documents, with reasons")
    d = docs.add_parser("show", parents=[common], help="a document, its lifecycle, its report")
    d.add_argument("id", metavar="ID_OR_NAME")
    d.add_argument("--json", action="store_true")
    d = docs.add_parser("set", parents=[common], help="set an owner, review date, superseded")
    d.add_argument("id", metavar="ID_OR_NAME")
    d.add_argument("--owner", help="a user name or e-mail address ('' clears it)")
    d.add_argument("--review-by", metavar="YYYY-MM-DD", help="next review date ('' clears it)")
    d.add_argument("--superseded-by", metavar="ID_OR_NAME", help="the document replacing it")
    d.add_argument("--reviewed", action="store_true", help="mark it reviewed today")
    d = docs.add_parser("versions", parents=[common], help="a document's kept earlier versions")
    d.add_argument("id", metavar="ID_OR_NAME")
    d.add_argument("--json", action="store_true")
    d = docs.add_parser("delete", parents=[common], help="delete a document and its versions")
    d.add_argument("id", metavar="ID_OR_NAME")
    p.set_defaults(func=cmd_docs)
