"""The log file under the data dir: full tracebacks of failed files and the libraries' own
warnings, which would otherwise flood the terminal (pdfminer alone writes thousands)."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

# Loggers of the parsing and storage libraries: their warnings are for the log file.
LIBRARY_LOGGERS = (
    "pdfminer",
    "pypdf",
    "unstructured",
    "unstructured_inference",
    "chromadb",
    "PIL",
    "pptx",
    "docx",
    "openpyxl",
    "py.warnings",
)
LOG_BYTES = 5 * 1024 * 1024  # per file, with two older files kept: ~15 MB at most
_lock = threading.Lock()
_current: logging.Handler | None = None


def route_to_file(path: Path) -> Path:
    """Send kb's and the libraries' log records and Python warnings to `path` instead of the
    terminal (the last data dir opened in a process gets them)."""
    global _current
    path = path.resolve()  # named in failure reasons: absolute, so a reader finds it
    with _lock:
        if isinstance(_current, logging.FileHandler) and Path(_current.baseFilename) == path:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Kept bounded: a batch of odd files can log a lot, and nobody trims a data dir.
        handler = RotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=2, encoding="utf-8", delay=True
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.captureWarnings(True)
        for name in (*LIBRARY_LOGGERS, "kb"):
            logger = logging.getLogger(name)
            if _current is not None:
                logger.removeHandler(_current)
            logger.addHandler(handler)
            logger.propagate = False  # never to the terminal's last-resort handler
            if logger.level == logging.NOTSET:
                logger.setLevel(logging.INFO if name == "kb" else logging.WARNING)
        if _current is not None:
            _current.close()
        _current = handler
    return path


def first_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's message, first line only and at most `limit` characters (its type's
    name when it has no message): enough for a reason line, never a traceback."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__


def one_line(exc: BaseException) -> str:
    """An exception as one short line: its type and the first line of its message."""
    return (
        f"{type(exc).__name__}: {first_line(exc, 160)}" if str(exc).strip() else type(exc).__name__
    )


def log_failure(path: Path, name: str, stage: str, exc: BaseException) -> str:
    """Append a failed file's full traceback to the log at `path`; return the reason to show."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(f"{stamp} ERROR kb.ingest.pipeline: {name} failed while {stage}:\n{trace}\n")
    return (
        f"kb could not finish {stage} ({one_line(exc)}); nothing of the file was stored. "
        f"The details are in {path}; if the file opens in its usual program, report it"
    )
