"""Finishing or undoing writes a crash interrupted, from the registry's write journal."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from kb.index.ids import sha256_hex
from kb.index.registry import Registry
from kb.ingest.commit import IngestOutcome
from kb.ingest.pipeline import Ingestor
from kb.ingest.sources import Source
from kb.layout import original_file

log = logging.getLogger(__name__)


class Recovery:
    """Replays the journal of interrupted writes (under the write lock)."""

    def __init__(
        self,
        registry: Registry,
        originals: Path,
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
                path = original_file(self.originals, p.doc_id, p.version, p.name, kind)
                if _intact(path, p.version):
                    outcomes = self._resume(p.name, path, p.groups)
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

    def _resume(self, name: str, path: Path, groups: tuple[str, ...]) -> list[IngestOutcome]:
        matches = sorted(path.parent.glob(f"{path.name.split('.')[0]}.*"))
        data = matches[0].read_bytes()  # read now: ingesting rewrites the same file
        return self.ingestor.run([Source(name, data=data)], groups=groups or None)


def _intact(path: Path, version: str) -> bool:
    """Whether a saved original has exactly the bytes the version tag was made from."""
    matches = list(path.parent.glob(f"{version}.*")) if path.parent.is_dir() else []
    # The version tag starts with the sha256 of the bytes; its tail names the chunking
    # settings, which may differ in the process that recovers.
    return any(version.startswith(sha256_hex(c.read_bytes())[:12]) for c in matches)
