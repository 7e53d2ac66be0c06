"""One-way layers: kb/ never imports streamlit; pages never import the engines."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_library_never_imports_streamlit() -> None:
    files = list((ROOT / "kb").rglob("*.py"))
    assert len(files) > 10
    offenders = [str(f) for f in files if "streamlit" in _imports(f)]
    assert offenders == []


def test_pages_import_only_the_facade() -> None:
    files = [ROOT / "streamlit_app.py", *(ROOT / "pages").rglob("*.py")]
    engines = {"chromadb", "llama_index", "unstructured", "bm25s", "sentence_transformers"}
    offenders = {
        str(f): _imports(f) & engines for f in files if f.exists() and _imports(f) & engines
    }
    assert offenders == {}


def test_layer_check_catches_an_offender(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom streamlit import session_state\nimport chromadb.api\n")
    assert _imports(bad) >= {"streamlit", "chromadb"}


def test_readme_documents_every_setting() -> None:
    from kb.config import Settings

    readme = (ROOT / "README.md").read_text()
    missing = [
        f"KB_{n.upper()}" for n in Settings.model_fields if f"`KB_{n.upper()}`" not in readme
    ]
    assert missing == []
