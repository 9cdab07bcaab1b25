"""No import cycles in ``funlm`` and ``autograder``, and every module imports on its own.

The graph is drawn from the source (AST): an edge A -> B for every ``import``/``from … import``
in A that names B, at module level or inside a function (a lazy import is still a dependency;
only ``if TYPE_CHECKING:`` blocks are left out). ``from pkg import name`` points at the
submodule ``pkg.name`` when there is one, else at ``pkg``. The course's dynamic imports load a
chapter's module by its id, ``importlib.import_module(f"funlm.repro.{chapter}")``: such a call
points at every module ``<prefix>chNN`` under its constant prefix, and any other dynamic import
fails the test (the graph could not follow it). Importing ``pkg.sub`` also runs ``pkg``'s
``__init__``; that implicit edge is not drawn (a package importing its own submodules is the
normal shape, not a cycle).

Two levels are checked: modules, and the parts one level below each package (``funlm.icl``,
``funlm.repro``, ``autograder.grading``, …; a top-level module is its own part), so that a
chapter package and ``funlm.repro`` cannot lean on each other through different modules.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"funlm": REPO / "src" / "funlm", "autograder": REPO / "autograder"}
# Files that are not importable modules: nbgrader's config file (traitlets runs it with
# `get_config` defined) and `python -m` entry points (importing them runs them).
NOT_IMPORTABLE = {"autograder.nbgrader_config"}
CHAPTER_MODULE = re.compile(r"ch\d\d")


def module_files() -> dict[str, Path]:
    """``{dotted module name: file}`` of every module of the two packages."""
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


@dataclass
class Imports:
    """What one module's source imports (targets not yet resolved to known modules)."""

    names: set[str] = field(default_factory=set)  # `import a.b`: a.b
    from_names: set[tuple[str, str]] = field(default_factory=set)  # `from a import b`: (a, b)
    dynamic_prefixes: set[str] = field(default_factory=set)  # import_module(f"prefix{…}")
    unresolved_dynamic: list[int] = field(default_factory=list)  # line numbers


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def read_imports(module: str, path: Path) -> Imports:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found = Imports()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            found.from_names.update((prefix, alias.name) for alias in node.names)
        elif isinstance(node, ast.Call) and _is_import_module(node.func):
            argument = node.args[0] if node.args else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.names.add(argument.value)
            elif (
                isinstance(argument, ast.JoinedStr)
                and argument.values
                and isinstance(argument.values[0], ast.Constant)
            ):
                found.dynamic_prefixes.add(str(argument.values[0].value))
            else:
                found.unresolved_dynamic.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _is_import_module(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id in ("import_module", "__import__")
    )


def import_graph(files: dict[str, Path]) -> tuple[dict[str, set[str]], list[str]]:
    """(``{module: modules it imports}``, dynamic imports the graph cannot follow)."""
    graph: dict[str, set[str]] = {}
    unfollowed: list[str] = []
    for module, path in files.items():
        imports = read_imports(module, path)
        targets = {name for name in imports.names if name in files}
        for prefix, name in imports.from_names:
            if f"{prefix}.{name}" in files:
                targets.add(f"{prefix}.{name}")  # a submodule
            elif prefix in files:
                targets.add(prefix)  # a name defined in (or re-exported by) the module
        for prefix in imports.dynamic_prefixes:
            matched = {
                m
                for m in files
                if m.startswith(prefix) and CHAPTER_MODULE.fullmatch(m[len(prefix) :])
            }
            if not matched:
                unfollowed.append(f"{module}: import_module(f{prefix!r}…) matches no chNN module")
            targets |= matched
        unfollowed += [f"{module}:{line}: dynamic import" for line in imports.unresolved_dynamic]
        targets.discard(module)
        graph[module] = targets
    return graph, unfollowed


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for node in sorted(graph):
            if node not in index:
                connect(node)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def part_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph collapsed to parts: ``funlm.icl.plots`` -> ``funlm.icl``."""

    def part(module: str) -> str:
        return ".".join(module.split(".")[:2])

    collapsed: dict[str, set[str]] = {}
    for module, targets in graph.items():
        collapsed.setdefault(part(module), set()).update(
            part(t) for t in targets if part(t) != part(module)
        )
    return collapsed


def test_no_import_cycles_between_modules():
    graph, unfollowed = import_graph(module_files())
    assert unfollowed == [], "dynamic imports the graph cannot follow"
    assert cycles(graph) == []


def test_no_import_cycles_between_parts_of_the_packages():
    graph, _ = import_graph(module_files())
    assert cycles(part_graph(graph)) == []


def test_the_graph_covers_both_packages_and_sees_lazy_and_relative_imports():
    files = module_files()
    assert "funlm.grading" in files and "autograder.grading.cli" in files
    graph, _ = import_graph(files)
    # module-level import
    assert "autograder.course" in graph["autograder.grading.cli"]
    # a lazy import inside a function (the sandbox is imported where `prepare` needs it)
    assert "autograder.grading.sandbox" in graph["autograder.grading.cli"]


def test_the_cycle_finder_finds_lazy_relative_and_chapter_dispatch_cycles(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from pkg import b\n")  # lazy
    (package / "b.py").write_text("from . import a\n")  # relative
    (package / "sub" / "__init__.py").write_text(
        "import importlib\ndef load(c):\n    return importlib.import_module(f'pkg.sub.{c}')\n"
    )
    (package / "sub" / "ch01.py").write_text("import pkg.c\n")
    (package / "c.py").write_text("from pkg.sub import load\n")
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.e\n"
    )
    (package / "e.py").write_text("import pkg.d\n")
    files = {
        ".".join(["pkg", *p.relative_to(package).with_suffix("").parts]).removesuffix(
            ".__init__"
        ): p
        for p in package.rglob("*.py")
    }
    graph, unfollowed = import_graph(files)
    assert unfollowed == []
    assert cycles(graph) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.sub", "pkg.sub.ch01"]]
    assert cycles(part_graph(graph)) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.sub"]]
    (package / "f.py").write_text("import importlib\nimportlib.import_module(name)\n")
    files["pkg.f"] = package / "f.py"
    assert import_graph(files)[1] == ["pkg.f:2: dynamic import"]


@pytest.mark.slow
def test_every_module_imports_in_a_fresh_interpreter():
    modules = sorted(
        m for m in module_files() if m not in NOT_IMPORTABLE and not m.endswith("__main__")
    )
    code = (
        "import importlib, json, sys\n"
        "failed = {}\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as error:\n"
        "        failed[name] = f'{type(error).__name__}: {error}'\n"
        "print(json.dumps(failed))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}
