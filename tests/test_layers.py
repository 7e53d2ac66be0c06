"""One-way layers: the stage order of kb/, no import cycles, no streamlit in kb/, no engine
in the pages, and the settings all documented."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# kb's stages, top to bottom: a module may import its own stage and any stage below it,
# never one above it nor a sibling on the same line.
STAGES: list[tuple[str, ...]] = [
    ("cli",),  # the `kb` command
    ("eval", "bench"),  # measurements, through the facade
    ("knowledge_base",),  # the facade pages and the CLI talk to
    ("quality",),  # stored answers, feedback, triage, fine-tuning data
    ("answer",),  # hits -> a cited answer
    ("search",),  # a question -> ranked hits
    ("ingest",),  # files -> chunks -> vectors -> a committed version
    ("index",),  # registry, Chroma, keyword index, snapshots, integrity
    ("security",),  # principals, sign-in, users, audit
    ("backends",),  # the concrete SDKs
    ("config", "layout", "logs", "errors"),  # settings, paths, log file, error tree
]
RANK = {name: len(STAGES) - i for i, line in enumerate(STAGES) for name in line}
BASE = STAGES[-1]
# Never loaded by a command that needs no model (see test_fast_commands_load_no_engine).
HEAVY = ("torch", "sentence_transformers", "transformers", "unstructured", "llama_cpp")


def _imports(path: Path) -> set[str]:
    """Top-level packages a file imports (anywhere in it, functions included)."""
    return {m.split(".")[0] for m in _modules(path)}


def _modules(path: Path, package: str = "") -> set[str]:
    """Dotted modules a file imports, at any depth: functions and TYPE_CHECKING included;
    `from kb import x` counts as kb.x when x is a module."""
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the file's package
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
    return names


def kb_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the kb modules it imports, for every module under root/kb. `from kb.x import
    y` is an edge to kb.x.y when y is a module, and to the package kb.x (its __init__, which
    re-exports) only when some imported name is not a module."""
    files = {}
    for f in (root / "kb").rglob("*.py"):
        parts = list(f.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = f
    graph: dict[str, set[str]] = {}
    for name, f in files.items():
        package = name if f.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for base, imported in _imported(f, package):
            modules = {f"{base}.{n}" for n in imported} & files.keys()
            edges |= modules
            if not imported or len(modules) < len(imported):
                edges.add(base)
        graph[name] = {m for m in edges if m in files and m != name}
    return graph


def _imported(path: Path, package: str) -> list[tuple[str, list[str]]]:
    """(module, names imported from it) for every import in a file; `import a.b` gives
    ("a.b", [])."""
    out: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            out.append((base, [a.name for a in node.names]))
    return out


def stage(module: str) -> str:
    """The stage a kb module belongs to: its first component under kb."""
    parts = module.split(".")
    if len(parts) == 1:
        return "errors"  # kb/__init__: the offline environment, settings and errors
    return "cli" if parts[1] == "__main__" else parts[1]


def upward_edges(graph: dict[str, set[str]]) -> list[str]:
    """Imports that run against the stage order."""
    bad = []
    for src, targets in graph.items():
        for dst in targets:
            a, b = stage(src), stage(dst)
            if a == b or (a in BASE and b in BASE):
                continue
            if RANK[b] >= RANK[a]:
                bad.append(f"{src} -> {dst} ({a} may not import {b})")
    return sorted(bad)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in graph.get(v, ()):
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_kb_module_has_a_stage() -> None:
    graph = kb_graph(ROOT)
    assert len(graph) > 40
    assert sorted({stage(m) for m in graph} - set(RANK)) == []


def test_kb_imports_follow_the_stage_order() -> None:
    assert upward_edges(kb_graph(ROOT)) == []


def test_kb_has_no_import_cycle() -> None:
    assert cycles(kb_graph(ROOT)) == []


def test_the_graph_checks_catch_an_offender(tmp_path: Path) -> None:
    (tmp_path / "kb" / "index").mkdir(parents=True)
    (tmp_path / "kb" / "__init__.py").write_text("")
    (tmp_path / "kb" / "index" / "__init__.py").write_text("")
    (tmp_path / "kb" / "index" / "store.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from kb.knowledge_base import X\n"
    )
    (tmp_path / "kb" / "knowledge_base.py").write_text("def f():\n    from kb.index import store\n")
    graph = kb_graph(tmp_path)
    assert graph["kb.index.store"] == {"kb.knowledge_base"}
    assert graph["kb.knowledge_base"] == {"kb.index.store"}  # a module, not the package
    assert upward_edges(graph) == [
        "kb.index.store -> kb.knowledge_base (index may not import knowledge_base)"
    ]
    assert cycles(graph) == [["kb.index.store", "kb.knowledge_base"]]


def test_library_never_imports_streamlit() -> None:
    files = list((ROOT / "kb").rglob("*.py"))
    assert len(files) > 10
    offenders = [str(f) for f in files if "streamlit" in _imports(f)]
    assert offenders == []


def test_page_formatting_needs_no_streamlit() -> None:
    files = list((ROOT / "pages" / "shared" / "format").rglob("*.py"))
    assert len(files) >= 3
    assert [str(f) for f in files if "streamlit" in _imports(f)] == []


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


def drawn_tree(drawing: str) -> dict[str, str | None]:
    """Each class name in a drawn tree -> the name drawn as its parent (None at the root)."""
    parents: dict[str, str | None] = {}
    open_at: list[tuple[int, str]] = []  # (column, name) of the lines above, still open
    for line in drawing.splitlines():
        m = re.match(r"^([\s│├└─]*)([A-Z]\w*Error)\b", line)
        if not m:
            continue
        column, name = len(m.group(1)), m.group(2)
        while open_at and open_at[-1][0] >= column:
            open_at.pop()
        parents[name] = open_at[-1][1] if open_at else None
        open_at.append((column, name))
    return parents


def test_every_error_is_drawn_in_the_tree_and_exported() -> None:
    import kb
    from kb import errors

    def tree(cls: type) -> list[type]:
        return [cls, *(c for sub in cls.__subclasses__() for c in tree(sub))]

    classes = tree(errors.KBError)
    assert len(classes) >= 12
    drawn = drawn_tree(errors.__doc__ or "")
    for cls in classes:
        assert cls.__module__ == "kb.errors", cls  # one error tree, in one module
        assert getattr(kb, cls.__name__) is cls and cls.__name__ in kb.__all__, cls
        parent = cls.__bases__[0]
        assert drawn[cls.__name__] == (None if parent is Exception else parent.__name__), cls
    assert len(drawn) == len(classes)  # nothing drawn that does not exist


def test_the_tree_reader_reads_nesting() -> None:
    drawing = "    AError\n    ├── BError    b\n    │   └── CError   c\n    └── DError\n"
    assert drawn_tree(drawing) == {
        "AError": None,
        "BError": "AError",
        "CError": "BError",
        "DError": "AError",
    }


@pytest.mark.slow
@pytest.mark.parametrize("command", [["docs", "list"], ["check"], ["users", "list"], ["--help"]])
def test_fast_commands_load_no_engine(command: list[str], tmp_path: Path) -> None:
    probe = (
        "import sys, atexit\n"
        f"heavy = {HEAVY!r}\n"
        "atexit.register(lambda: print('LOADED', sorted(m for m in heavy if m in sys.modules)))\n"
        f"sys.argv = ['kb', *{command!r}]\n"
        "from kb.cli.main import main\n"
        "try:\n    code = main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print('EXIT', code)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "KB_DATA_DIR": str(tmp_path / "data")},
    )
    assert "EXIT 0" in out.stdout or "EXIT None" in out.stdout, out.stdout + out.stderr
    assert "LOADED []" in out.stdout, out.stdout


def _box(text: str) -> list[str]:
    """The drawn box (┌ ... ┘) in a docstring or README, its lines stripped."""
    m = re.search(r"┌[^\n]*\n(?:[ \t]*│[^\n]*\n)+[ \t]*└[^\n]*", text)
    return [ln.strip() for ln in m.group(0).splitlines()] if m else []


def test_each_stage_package_carries_its_box_of_the_readme_diagram() -> None:
    readme = [ln.strip() for ln in (ROOT / "README.md").read_text().splitlines()]
    packages = [name for line in STAGES[:-1] for name in line if name != "knowledge_base"]
    for name in packages:
        doc = __import__(f"kb.{name}", fromlist=["_"]).__doc__ or ""
        box = _box(doc)
        assert box and box[0].startswith(f"┌ kb/{name} "), name
        start = readme.index(box[0])  # the README draws the same box, line for line
        assert readme[start : start + len(box)] == box, name
