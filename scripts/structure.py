"""Structural facts of the code base, checked by tests/test_structure.py and quoted in notes: module sizes,
function lengths, and import circles among trainer/ and space/ modules (top-level imports and those inside
functions alike)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60


def modules() -> dict[str, Path]:
    found = {}
    for package in ("trainer", "space"):
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def imports_of(name: str, path: Path, known: dict) -> set[str]:
    """The project modules ``name`` imports (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in known and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def report() -> dict:
    known = modules()
    graph = {name: imports_of(name, path, known) for name, path in known.items()}
    long_modules = {str(p.relative_to(ROOT)): n for p in known.values()
                    if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    long_functions = {}
    for path in known.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = length
    return {"modules": len(known), "import_edges": sum(map(len, graph.values())), "cycles": cycles(graph),
            "long_modules": long_modules, "long_functions": long_functions}


if __name__ == "__main__":
    import json

    print(json.dumps(report(), indent=1))
