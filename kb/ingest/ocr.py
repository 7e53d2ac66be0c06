"""Optical character recognition with Tesseract (Debian's `tesseract-ocr`): offline, no model
download; the binary is called per image so a stuck page can be killed by its timeout."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from typing import Any

from kb.errors import IngestError

# Tesseract reads text best at ~300 DPI; scans of typed pages gain nothing above it and the
# time grows with the pixel count.
OCR_DPI = 300
# What an admin is told when a file needs OCR and Tesseract is not there.
OCR_OFF = (
    "OCR is off because Tesseract is not installed; install it (Debian/Ubuntu: "
    "`apt-get install tesseract-ocr tesseract-ocr-eng`, or `make ocr`) and upload the file again"
)


def find(binary: str) -> str | None:
    """The Tesseract binary's path (KB_TESSERACT: a name on PATH or a path), or None: OCR off."""
    return shutil.which(binary)


def image_text(image: Any, timeout: float, binary: str, lang: str = "eng") -> str:
    """The text Tesseract (`binary`) reads in a PIL image (or PNG/JPEG/TIFF bytes)."""
    if isinstance(image, bytes | bytearray):
        data = bytes(image)
    else:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        data = buf.getvalue()
    # One thread per call: kb already parses beside the embedder on 2 cores; Tesseract's
    # OpenMP threads only fight it for them.
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    try:
        done = subprocess.run(
            [binary, "stdin", "stdout", "-l", lang, "--psm", "3"],
            input=data,
            capture_output=True,
            timeout=max(1.0, timeout),
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise IngestError(
            f"OCR took longer than {timeout:.0f} s on one page (KB_PARSE_TIMEOUT)"
        ) from exc
    except OSError as exc:
        raise IngestError(f"could not run Tesseract ({exc}); check its installation") from exc
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise IngestError(f"Tesseract could not read the image ({(err or ['no detail'])[-1]})")
    return done.stdout.decode("utf-8", "replace")


def images_of(data: bytes) -> list[Any]:
    """Every frame of an image file (a TIFF may hold many pages), as PIL images."""
    from PIL import Image, ImageSequence

    try:
        img = Image.open(io.BytesIO(data))
        frames = [f.copy() for f in ImageSequence.Iterator(img)]
    except Exception as exc:  # PIL raises several types for a broken file
        raise IngestError(f"the image cannot be read ({exc}); export it again") from exc
    return frames


def paragraphs(text: str) -> list[str]:
    """OCR output as paragraphs: Tesseract ends a block with a blank line and wraps lines."""
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def status(max_pages: int, binary: str) -> str | None:
    """None when scans and images can be read; else why not and how to turn OCR on."""
    if max_pages == 0:
        return "OCR is off (KB_OCR_MAX_PAGES=0): scans and images are not read"
    return None if find(binary) else OCR_OFF
