"""The KnowledgeBase facade: the one object pages, the CLI and the benchmarks talk to.

`facade` holds the class: ingest, search, ask, delete, re-index, audit; `documents` its part
for document lifecycles: owners and review dates, stale reports, kept versions, folder sync.
"""

from __future__ import annotations

from kb.ingest import expand_paths
from kb.knowledge_base.facade import KnowledgeBase

__all__ = ["KnowledgeBase", "expand_paths"]
