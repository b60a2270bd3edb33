"""The import graph of the banditlab package, and its cycles.

Every module of the installed package is parsed with :mod:`ast` (nothing is
imported or compiled) and every ``import`` statement is collected, at module level
and inside functions alike: ``import a.b`` is an edge to ``a.b``; ``from a import b``
is an edge to ``a.b`` when that is a module and to ``a`` otherwise; relative imports
are resolved against the importing module's package. Only edges between project
modules are kept.

One kind of edge is allowed to close a cycle, listed in :data:`ALLOWED_EDGES`:
registration loading. :mod:`banditlab.registry` imports the packages
``banditlab.envs`` and ``banditlab.agents`` on first use so that the built-in ids
are registered, the same way it loads plugin entry points; those packages in turn
import the registry to register their ids. Every other cycle is a defect.

Run ``python -m banditlab.testing.imports`` to print the graph's size and its cycles
(exit status 1 when there is any).
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ALLOWED_EDGES", "ImportGraph", "import_graph", "find_cycles", "main"]

#: Packages whose files make up the project. ``banditlab.envs`` and ``banditlab.agents``
#: are installed from the repository folders ``envs/`` and ``agents/``, so they are
#: located separately from ``banditlab/`` itself.
ROOT_PACKAGES = ("banditlab", "banditlab.envs", "banditlab.agents")

#: Edges exempt from the no-cycle rule (registration loading, see the module docstring).
ALLOWED_EDGES = frozenset({
    ("banditlab.registry", "banditlab.envs"),
    ("banditlab.registry", "banditlab.agents"),
})


@dataclass
class ImportGraph:
    """Project modules and the imports between them.

    Attributes:
        files: Module name to source file.
        packages: Names of the modules that are packages (``__init__.py``).
        edges: Module name to the project modules it imports, with the line numbers.
    """

    files: dict[str, Path] = field(default_factory=dict)
    packages: set[str] = field(default_factory=set)
    edges: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    @property
    def n_edges(self) -> int:
        """Number of distinct (importer, imported) pairs."""
        return sum(len(targets) for targets in self.edges.values())

    def edge_set(self) -> set[tuple[str, str]]:
        """Every (importer, imported) pair."""
        return {(a, b) for a, targets in self.edges.items() for b in targets}


def _package_dirs(name: str) -> list[Path]:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{name!r} is not an installed package")
    return [Path(p) for p in spec.submodule_search_locations]


def _collect_files(graph: ImportGraph, name: str, directory: Path) -> None:
    graph.files[name] = directory / "__init__.py"
    graph.packages.add(name)
    for path in sorted(directory.iterdir()):
        if path.is_dir() and (path / "__init__.py").is_file():
            _collect_files(graph, f"{name}.{path.name}", path)
        elif path.suffix == ".py" and path.name != "__init__.py":
            graph.files[f"{name}.{path.stem}"] = path


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, target] if target else base)


def _imports_of(graph: ImportGraph, module: str) -> dict[str, list[int]]:
    tree = ast.parse(graph.files[module].read_text(encoding="utf-8"),
                     filename=str(graph.files[module]))
    found: dict[str, list[int]] = {}

    def add(target: str, line: int) -> None:
        if target in graph.files and target != module:
            lines = found.setdefault(target, [])
            if line not in lines:
                lines.append(line)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _resolve_relative(module, module in graph.packages, node.level,
                                         node.module)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                add(sub if sub in graph.files else base, node.lineno)
    return found


def import_graph(roots: tuple[str, ...] = ROOT_PACKAGES) -> ImportGraph:
    """Parse every module of the installed project packages and build the import graph.

    Args:
        roots: Installed packages to read (each with all its sub-packages).

    Returns:
        The :class:`ImportGraph`.
    """
    graph = ImportGraph()
    for root in roots:
        for directory in _package_dirs(root):
            _collect_files(graph, root, directory)
    for module in graph.files:
        graph.edges[module] = _imports_of(graph, module)
    return graph


def _strongly_connected(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components in discovery order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            targets = succ.get(v, [])
            if i < len(targets):
                work.append((v, i + 1))
                w = targets[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def _one_cycle(component: list[str], succ: dict[str, list[str]]) -> list[str]:
    """A shortest cycle through the first module of a strongly connected component."""
    members = set(component)
    start = component[0]
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in succ.get(v, []):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if w in members and w not in parents:
                    parents[w] = v
                    nxt.append(w)
        frontier = nxt
    return component  # pragma: no cover - a component always has a cycle


def find_cycles(graph: ImportGraph,
                allowed: frozenset[tuple[str, str]] = ALLOWED_EDGES) -> list[list[str]]:
    """Import cycles of the graph once the ``allowed`` edges are removed.

    Args:
        graph: An :class:`ImportGraph`.
        allowed: Edges exempt from the rule.

    Returns:
        One cycle per strongly connected component of more than one module, as the
        list of modules along it (first and last equal), sorted.
    """
    succ = {a: sorted(b for b in targets if (a, b) not in allowed)
            for a, targets in graph.edges.items()}
    cycles = [_one_cycle(c, succ) for c in _strongly_connected(sorted(succ), succ) if len(c) > 1]
    return sorted(cycles)


def report(graph: ImportGraph, cycles: list[list[str]]) -> str:
    """Human-readable summary: counts, allowed edges, and every cycle with line numbers."""
    lines = [f"{len(graph.files)} modules, {graph.n_edges} import edges "
             f"(module-level and function-level)"]
    present = sorted(ALLOWED_EDGES & graph.edge_set())
    lines.append("allowed edges (registration loading): "
                 + (", ".join(f"{a} -> {b}" for a, b in present) or "none"))
    lines.append(f"{len(cycles)} import cycle(s)")
    for cyc in cycles:
        hops = [f"{a} -> {b} (line {','.join(map(str, graph.edges[a][b]))})"
                for a, b in zip(cyc, cyc[1:], strict=False)]
        lines.append("  cycle: " + "; ".join(hops))
    return "\n".join(lines)


def main() -> int:
    """Print the graph summary and every cycle; exit status 1 when there is a cycle."""
    graph = import_graph()
    cycles = find_cycles(graph)
    print(report(graph, cycles))
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
