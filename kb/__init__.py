"""kb: an internal knowledge-base assistant."""

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
from kb.errors import ConfigError, GenerationError, IngestError, KBError, StoreError  # noqa: E402

__all__ = ["ConfigError", "GenerationError", "IngestError", "KBError", "Settings", "StoreError"]
