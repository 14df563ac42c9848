"""The package's shape: layers import downwards only, no import cycles, modules a reader can hold in mind."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "streamdl"
MAX_LINES = 400


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """{module: streamdl modules it imports}, at any depth of the file (lazy imports count too)."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("streamdl"):
                for alias in node.names:  # `from streamdl.cli import files` imports the module streamdl.cli.files
                    sub = PACKAGE.parent / (node.module + "." + alias.name).replace(".", "/")
                    found.add(f"{node.module}.{alias.name}" if sub.with_suffix(".py").is_file() or sub.is_dir() else node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.startswith("streamdl"))
        graph[_module(path)] = found
    return graph


def test_models_import_no_data_engine_or_training():
    for module, imported in _imports().items():
        if module.startswith("streamdl.models"):
            reaching = {i for i in imported if i.split(".")[1] in ("data", "engine", "training", "stages", "evaluation", "cli")}
            assert not reaching, f"{module} imports {reaching}"


def test_no_import_cycle():
    graph = _imports()
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for child in sorted(graph.get(module, ())):
            if child not in graph:
                continue
            if state.get(child) == "open":
                pytest.fail("import cycle: " + " -> ".join([*path, module, child]))
            if child not in state:
                visit(child, [*path, module])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_short(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_the_public_api_resolves_and_is_documented():
    import streamdl

    for name in streamdl.__all__:
        value = getattr(streamdl, name)
        assert (value.__doc__ or "").strip(), f"streamdl.{name} has no docstring"
