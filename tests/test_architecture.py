"""The shape of the code, checked: the engine's modules import only earlier stages of the
pipeline, `metrics` imports neither the engine nor the bot, nothing imports in a cycle,
and functions and bot modules stay small enough to read."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "metrics", "bot")

# The engine's modules by pipeline stage, in order: a module may import its own stage
# and earlier ones only. Per-file parsing ("read") knows nothing of matching.
ENGINE_STAGES = (
    ("exceptions", "records", "normalize", "atomic", "interrupts", "sources"),
    ("discover", "suppress", "token_units", "near_sign", "python_units", "partial",
     "fingerprint", "config", "repos"),
    ("plan", "pool", "cluster"),
    ("match", "near", "suggest", "content", "detect", "copies", "rewrite", "extract"),
    ("staging", "store", "baseline", "queries"),
    ("inventory", "lookup"),
    ("scan", "check", "tracking", "refactor"),
    ("markdown", "sarif", "html", "report"),
    ("cli", "__main__", "__init__"),
)
MAX_FUNCTION_LINES = 60
MAX_BOT_MODULE_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(CHECKOUT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, ast.Module]:
    return {_module_name(path): ast.parse(path.read_text(encoding="utf-8"))
            for package in PACKAGES for path in sorted((CHECKOUT / package).rglob("*.py"))}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of import nodes under `if TYPE_CHECKING:` (no import at run time)."""
    hidden = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(inner) for inner in ast.walk(node))
    return hidden


def _imports(modules: dict[str, ast.Module]) -> dict[str, set[str]]:
    """Module -> the project modules it imports at run time (anywhere in its code)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for name, tree in modules.items():
        hidden = _type_checking_only(tree)
        for node in ast.walk(tree):
            if id(node) in hidden:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                candidates = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            else:
                continue
            for candidate in candidates:
                if candidate in modules and candidate != name:
                    graph[name].add(candidate)
                    break
    return graph


@pytest.fixture(scope="module")
def modules() -> dict[str, ast.Module]:
    found = _sources()
    assert {"engine.scan", "metrics.store", "bot.app"} <= found.keys()
    return found


@pytest.fixture(scope="module")
def graph(modules) -> dict[str, set[str]]:
    imports = _imports(modules)
    assert imports["engine.scan"], "the graph must see the scan's imports"
    return imports


def test_every_engine_module_has_a_stage(modules):
    staged = {name for stage in ENGINE_STAGES for name in stage}
    engine = {name.removeprefix("engine.") for name in modules if name.startswith("engine.")}
    assert engine <= staged, f"put these in ENGINE_STAGES: {sorted(engine - staged)}"


def test_engine_modules_import_only_earlier_stages(graph):
    rank = {f"engine.{name}": n for n, stage in enumerate(ENGINE_STAGES) for name in stage}
    rank["engine"] = len(ENGINE_STAGES) - 1
    backwards = sorted(f"{module} -> {target}" for module, targets in graph.items()
                       if module in rank for target in targets
                       if target in rank and rank[target] > rank[module])
    assert backwards == []


def test_metrics_imports_neither_engine_nor_bot(graph):
    crossing = sorted(f"{module} -> {target}" for module, targets in graph.items()
                      if module.split(".")[0] == "metrics" for target in targets
                      if target.split(".")[0] in ("engine", "bot"))
    assert crossing == []


def test_the_engine_does_not_import_the_bot(graph):
    assert not [t for m, ts in graph.items() if m.startswith("engine") for t in ts
                if t.startswith("bot")]


def test_no_import_cycles(graph):
    """Depth-first search for a back edge, imports inside functions included."""
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_functions_in_engine_and_bot_are_short(modules):
    long = sorted(
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, tree in modules.items() if name.split(".")[0] in ("engine", "bot")
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES)
    assert long == []


def test_bot_modules_are_small():
    big = sorted(f"{path.relative_to(CHECKOUT)}: {lines}" for path in (CHECKOUT / "bot").rglob("*.py")
                 if (lines := len(path.read_text(encoding="utf-8").splitlines()))
                 > MAX_BOT_MODULE_LINES)
    assert big == []
