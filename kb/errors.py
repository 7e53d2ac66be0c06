"""The errors kb raises on purpose; each message says what the user can do about it."""


class KBError(Exception):
    """Base of every error a user can cause or fix; pages and the CLI catch this one."""


class ConfigError(KBError):
    """A setting is missing or invalid."""


class IngestError(KBError):
    """A file could not be parsed, chunked or indexed; nothing of it was stored."""


class UnsupportedFileError(IngestError):
    """The file's content is not a format kb reads."""


class EmptyDocumentError(IngestError):
    """The file parsed, but yielded no text to index."""


class StoreError(KBError):
    """The vector store, keyword index or registry failed or disagree."""


class NotFoundError(KBError):
    """No document matches the id or name given."""


class GenerationError(KBError):
    """The language model failed to produce an answer."""


class PermissionDeniedError(KBError):
    """The signed-in user's role does not allow the action."""
