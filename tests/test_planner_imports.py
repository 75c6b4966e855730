"""The planner package has no import cycles: its modules' imports (at top level and inside
functions, not those only for type checkers) form a graph without cycles, so each pass can be
imported and tested on its own and the layout shows what depends on what."""

from __future__ import annotations

import ast
from pathlib import Path

import prismaudio.planner

ROOT = Path(prismaudio.planner.__file__).parent
PACKAGE = "prismaudio.planner"


def _module(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([PACKAGE, *parts])


def _runtime_imports(tree: ast.AST):
    """Import nodes outside `if TYPE_CHECKING:` blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for body in node.orelse for n in _runtime_imports(ast.Module([body], [])))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _runtime_imports(node)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the planner modules it imports."""
    paths = {_module(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for mod, path in paths.items():
        package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        deps: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module or ""
                names = [target] + [f"{target}.{a.name}" for a in node.names]
            else:
                names = [a.name for a in node.names]
            deps |= {n for n in names if n in paths and n != mod}
        graph[mod] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), and self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_holds_the_passes_imports():
    graph = import_graph()
    assert f"{PACKAGE}.passes" in graph
    assert {f"{PACKAGE}.track.objects", f"{PACKAGE}.detect.shots", f"{PACKAGE}.scene"} <= graph[f"{PACKAGE}.passes"]


def test_planner_has_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles in the planner: " + "; ".join(" <-> ".join(c) for c in found)
