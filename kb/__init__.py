"""kb: an internal knowledge-base assistant.

The stages, each a package importing only the ones below it (tests/test_layers.py):

    cli                 the `kb` command
    eval, bench         measurements: retrieval quality, speed and memory
    knowledge_base      the KnowledgeBase facade: the one object pages and the CLI use
    answer              hits -> a cited answer (extractive, or a model's, checked)
    search              a question -> ranked hits (dense + keyword, fused)
    ingest              files -> blocks -> chunks -> vectors -> one committed version
    index               what is stored and kept in agreement (registry, Chroma, BM25)
    security            principals, sign-in, users, the audit log
    backends            the concrete SDKs: Chroma, the embedding model, language models
    config, layout, logs, errors   settings, data-dir paths, the log file, the error tree
"""

import os

# Set before any heavy import: nothing may phone home or fetch a model at run time,
# here or at an air-gapped site. setdefault lets an operator override deliberately.
for _key, _value in {
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "SCARF_NO_ANALYTICS": "true",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_key, _value)

from kb.config import Settings  # noqa: E402
from kb.errors import (  # noqa: E402
    AccessGroupError,
    ConfigError,
    DatasetError,
    EmptyDocumentError,
    GenerationError,
    IngestError,
    KBError,
    NotFoundError,
    PermissionDeniedError,
    SignInError,
    StoreError,
    UnsupportedFileError,
    UsageError,
    UserError,
)

__all__ = [
    "AccessGroupError",
    "ConfigError",
    "DatasetError",
    "EmptyDocumentError",
    "GenerationError",
    "IngestError",
    "KBError",
    "NotFoundError",
    "PermissionDeniedError",
    "Settings",
    "SignInError",
    "StoreError",
    "UnsupportedFileError",
    "UsageError",
    "UserError",
]
