"""The package's modules import only downward: no import circle (imports inside functions
count), no module below the top importing the package root, and every import into the same
layer or a lower one. The layers are the map DESIGN.md draws."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "python" / "fastprep"

#: From the bottom up; a module is in the first layer one of whose prefixes it starts with.
LAYERS = [
    # errors, the backend choice, the reference kernels, parameter checks
    ["fastprep._core", "fastprep.exceptions", "fastprep._version", "fastprep._checks",
     "fastprep.reference",
     "fastprep._backend", "fastprep.testing"],
    # input reading, output building, accumulators, the plan spec's assembly
    ["fastprep.sketch", "fastprep.accumulators", "fastprep._input", "fastprep._output",
     "fastprep._plan"],
    # the state protocol and the artifact file
    ["fastprep._state", "fastprep.artifact"],
    # the one fitted base
    ["fastprep._base"],
    # transforms, encoders, postprocessors
    ["fastprep.scale", "fastprep.impute", "fastprep.discretize", "fastprep.binarize",
     "fastprep.normalize", "fastprep.quantile_transform", "fastprep.power", "fastprep.encode",
     "fastprep.hashing", "fastprep.post", "fastprep.linear", "fastprep.function",
     "fastprep.polynomial", "fastprep.spline"],
    # composition, drift, and conversion from scikit-learn (which builds compositions)
    ["fastprep.drift", "fastprep.compose", "fastprep.convert"],
    # the top: may import anything below
    ["fastprep.datasets", "fastprep.demo", "fastprep.cli", "fastprep.__main__",
     "fastprep._answers", "fastprep.mlflow", "fastprep.dask"],
]  # fmt: skip
TOP = {"fastprep", "fastprep.cli", "fastprep.demo", "fastprep.__main__"}


def _modules() -> dict[str, Path]:
    """Every module, the compiled one (known by its stub) included."""
    out = {"fastprep._core": PACKAGE / "_core.pyi"}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The fastprep modules ``name`` imports, anywhere in it (functions included), but for
    the imports of annotations only."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    typing_only = {  # `if TYPE_CHECKING:` imports never run
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test).endswith("TYPE_CHECKING")
        for stmt in block.body
        for n in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from fastprep.x import y`: the submodule y if there is one, else x itself.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]  # fmt: skip
        else:
            continue
        found.update(t for t in targets if t == "fastprep" or t.startswith("fastprep."))
    found.discard(name)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items() if path.suffix == ".py"}


def _layer(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in layer):
            return i
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def test_every_module_is_in_a_layer():
    for name in MODULES:
        if name != "fastprep":
            _layer(name)
    assert len(GRAPH) > 40


def test_no_module_below_the_top_imports_the_package_root():
    offenders = sorted(n for n, targets in GRAPH.items() if "fastprep" in targets and n not in TOP)
    assert not offenders, offenders


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if n != "fastprep"))
def test_imports_go_down_or_across(name):
    mine = _layer(name)
    upward = sorted(t for t in GRAPH[name] if t != "fastprep" and _layer(t) > mine)
    assert not upward, f"{name} (layer {mine}) imports {upward} from above"


def test_no_import_circle():
    """Tarjan's strongly connected components: each must be one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH.get(v, ()):
            if w not in GRAPH:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not circles, circles


def test_the_walk_sees_imports_inside_functions(tmp_path):
    """The graph counts an import inside a function, and one of a submodule by name."""
    module = tmp_path / "mod.py"
    module.write_text("def f():\n    from fastprep.compose import pipeline\n")
    assert _imports("fastprep.mod", module) == {"fastprep.compose.pipeline"}
    module.write_text("import fastprep\n\ndef f():\n    from fastprep import _plan, Pipeline\n")
    assert _imports("fastprep.mod", module) == {"fastprep", "fastprep._plan"}
