"""Finishing or undoing writes a crash interrupted, from the registry's write journal."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kb.backends.blobs import BlobStore
from kb.index.ids import sha256_hex
from kb.index.registry import Pending, Registry
from kb.ingest.commit import IngestOutcome
from kb.ingest.pipeline import Ingestor
from kb.ingest.sources import Source
from kb.layout import original_key

log = logging.getLogger(__name__)


class Recovery:
    """Replays the journal of interrupted writes (under the write lock)."""

    def __init__(
        self,
        registry: Registry,
        originals: BlobStore,
        ingestor: Ingestor,
        sweep: Callable[[], int],
    ) -> None:
        self.registry, self.originals, self.ingestor = registry, originals, ingestor
        self.sweep = sweep

    def run(self) -> list[str]:
        """Finish or report writes a crash interrupted (lock held): an upload whose original
        was saved whole is ingested again from it; anything else is undone and reported."""
        reports: list[str] = []
        for p in self.registry.pending():
            live = self.registry.get(p.doc_id)
            if p.op == "ingest" and not (live and live.version == p.version):
                kind = live.kind if live else "bin"
                key = original_key(p.doc_id, p.version, p.name, kind)
                data = _intact(self.originals, key, p.version)
                if data is not None:
                    outcomes = self._resume(p, data)
                    reports += [f"resumed an interrupted upload: {o.message()}" for o in outcomes]
                else:
                    reports.append(
                        f"an upload of {p.name} was interrupted before its file was saved; "
                        "nothing of it is kept: upload it again"
                    )
            elif p.op == "delete":
                done = live is None
                reports.append(
                    f"finished an interrupted delete of {p.name}"
                    if done
                    else f"a delete of {p.name} was interrupted before it took effect; "
                    "delete it again"
                )
            self.registry.end(p.doc_id, p.version)
        swept = self.sweep()
        if swept:
            log.info("recovery removed %d orphan chunks", swept)
        return reports

    def _resume(self, p: Pending, data: bytes) -> list[IngestOutcome]:
        source = Source(p.name, data=data, origin=p.source, doc_id=p.doc_id)
        return self.ingestor.run([source], groups=p.groups or None)


def _intact(originals: BlobStore, key: str, version: str) -> bytes | None:
    """The bytes of a saved original, if they are exactly those the version tag was made
    from (any extension: the kind of an upload never registered is unknown)."""
    folder = key.rsplit("/", 1)[0] + "/"
    for candidate in originals.keys_under(folder):
        if not candidate[len(folder) :].startswith(f"{version}."):
            continue
        data = originals.read(candidate)  # read now: ingesting rewrites the same key
        # The version tag starts with the sha256 of the bytes; its tail names the chunking
        # settings, which may differ in the process that recovers.
        if version.startswith(sha256_hex(data)[:12]):
            return data
    return None
