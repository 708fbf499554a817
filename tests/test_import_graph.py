"""The app's modules import each other without cycles, function-level imports included (the
contributors' guide): a cycle hidden in a function still ties two modules' fates together."""

from __future__ import annotations

import ast
from pathlib import Path

import recommendations

ROOT = Path(recommendations.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            graph[name].update(c for c in candidates if c in modules and c != name)
    return graph


def test_no_module_imports_itself_through_others():
    graph = import_graph()
    in_cycles = []
    for start in graph:
        seen, stack = set(), list(graph[start])
        while stack:
            module = stack.pop()
            if module == start:
                in_cycles.append(start)
                break
            if module not in seen:
                seen.add(module)
                stack.extend(graph[module])
    assert not in_cycles, f"modules in an import cycle: {sorted(in_cycles)}"


def test_the_graph_sees_function_level_imports():
    """Guard the guard: receivers imports serving inside a function only."""
    assert "recommendations.serving" in import_graph()["recommendations.receivers"]
