"""The errors kb raises on purpose; each message says what the user can do about it.

Pages and the CLI catch `KBError` and show its message; anything else is a bug and is not
swallowed, except at the per-file boundary of a batch (logged, reported, never silent).

    KBError
    ├── ConfigError              a setting is missing or invalid
    ├── UsageError               a call or command was given arguments it cannot use
    │   └── AccessGroupError     a document's access groups are empty or malformed
    ├── DatasetError             an evaluation or benchmark data set cannot be read
    ├── IngestError              a file could not be parsed, chunked or indexed (nothing kept)
    │   ├── UnsupportedFileError     its content is not a format kb reads
    │   └── EmptyDocumentError       it parsed, but held no text
    ├── StoreError               the vector store, keyword index or registry failed or disagree
    ├── NotFoundError            no document (or user) matches the id or name given
    ├── GenerationError          the language model failed to produce an answer
    ├── PermissionDeniedError    the signed-in user's role does not allow the action
    ├── SignInError              a sign-in was refused (the reason the user may see)
    └── UserError                a users-file change cannot be done as asked
"""


class KBError(Exception):
    """Base of every error a user can cause or fix; pages and the CLI catch this one."""


class ConfigError(KBError):
    """A setting is missing or invalid."""


class UsageError(KBError):
    """A call or command was given arguments it cannot use (an empty question, no names)."""


class AccessGroupError(UsageError):
    """A document's access groups are empty, too many or malformed."""


class DatasetError(KBError):
    """An evaluation or benchmark data set (BEIR folder, questions file) cannot be read."""


class IngestError(KBError):
    """A file could not be parsed, chunked or indexed; nothing of it was stored."""


class UnsupportedFileError(IngestError):
    """The file's content is not a format kb reads."""


class EmptyDocumentError(IngestError):
    """The file parsed, but yielded no text to index."""


class StoreError(KBError):
    """The vector store, keyword index or registry failed or disagree."""


class NotFoundError(KBError):
    """No document (or user) matches the id or name given."""


class GenerationError(KBError):
    """The language model failed to produce an answer."""


class PermissionDeniedError(KBError):
    """The signed-in user's role does not allow the action."""


class SignInError(KBError):
    """A sign-in that was refused, with the reason the user may see."""


class UserError(KBError):
    """A users-file operation that cannot be done as asked (unknown user, weak password...)."""
