"""The package's shape: layers import downwards only, no import cycles, small modules.

Run as a script (``python tests/test_architecture.py``) to print every strongly connected
component of fim's import graph; every one must have size 1.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400


def import_graph() -> dict[str, set[str]]:
    """Every import between fim's modules, including those inside functions and under
    ``TYPE_CHECKING`` (grimp reads every import statement in the source)."""
    graph = grimp.build_graph("fim", include_external_packages=False)
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def strongly_connected_components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit to meet on a deep graph)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def test_layers_contract_holds_for_every_import():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_graph_has_no_cycle_of_any_kind():
    cycles = [c for c in strongly_connected_components(import_graph()) if len(c) > 1]
    assert cycles == []


def test_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(map(tuple, strongly_connected_components(graph))) == [("a", "b", "c"), ("d",)]


def test_no_module_is_longer_than_a_few_hundred_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "fim").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


if __name__ == "__main__":
    for component in strongly_connected_components(import_graph()):
        print(len(component), " ".join(component))
