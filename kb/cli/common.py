"""What the `kb` commands share: the knowledge base, opened only by commands that need it,
and one line of JSON out."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kb.config import Settings

if TYPE_CHECKING:  # only types here: `kb --help` loads no engine
    from kb.knowledge_base import KnowledgeBase


def open_kb(settings: Settings) -> KnowledgeBase:
    """The knowledge base of these settings."""
    # Imported here: `kb --help` and `kb users` never load the storage engines.
    from kb.knowledge_base import KnowledgeBase

    return KnowledgeBase(settings)


def emit(data: Any) -> None:
    """Print `data` as one line of JSON."""
    print(json.dumps(data, ensure_ascii=False, indent=None, default=str))
