"""The layers of the package, pinned (docs/architecture.md, "Layers").

- Importing the sync engine (``personio_operator.sync``, ``.sync.runner``) loads no Kubernetes code:
  the CLI and the bench run without kopf or a Kubernetes client.
- The SCIM package imports nothing from ``sync`` or ``controller``: it is the protocol and the plan,
  usable without the run around it.
- ``api`` (the CRD's models and the run model) imports nothing from ``sync``, ``scim`` or ``controller``.
- No import cycle between the package's parts (its sub-packages and top-level modules).

Imports are read from every file's syntax tree (also those inside functions), so nothing is missed
by an import that happens to be lazy.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import personio_operator

PACKAGE = "personio_operator"
ROOT = Path(personio_operator.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module of this package the file imports, absolute or relative, wherever in the file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return _imports_in(path.read_text(encoding="utf-8"), package)


def _imports_in(source: str, package: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return {name for name in found if name == PACKAGE or name.startswith(f"{PACKAGE}.")}


def _files(part: str = "") -> list[Path]:
    base = ROOT / part if part else ROOT
    return sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]


def _part(module: str) -> str | None:
    """The part of the package a module belongs to: its sub-package or its top-level module (None for
    the package itself and for names imported from it that are not modules, e.g. ``__version__``)."""
    parts = module.split(".")
    if len(parts) < 2 or not ((ROOT / parts[1]).is_dir() or (ROOT / f"{parts[1]}.py").is_file()):
        return None
    return parts[1]


def _imports_of(part: str) -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in _files(part)}


def _offending(part: str, forbidden: set[str]) -> list[str]:
    return sorted(
        f"{module} imports {imported}"
        for module, imported_names in _imports_of(part).items()
        for imported in imported_names
        if _part(imported) in forbidden
    )


def test_the_sync_engine_loads_no_kubernetes_code() -> None:
    probe = (
        "import sys, json\n"
        "import personio_operator.sync, personio_operator.sync.runner, personio_operator.sync.cli\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    loaded = json.loads(result.stdout)
    kubernetes = [name for name in loaded if name.split(".")[0] in {"kopf", "kubernetes", "kubernetes_asyncio"}]
    controller = [name for name in loaded if name.startswith(f"{PACKAGE}.controller")]
    assert not kubernetes and not controller, kubernetes[:5] + controller[:5]


def test_the_scim_package_imports_nothing_from_sync_or_controller() -> None:
    assert _offending("scim", {"sync", "controller"}) == []


def test_api_imports_nothing_from_sync_scim_or_controller() -> None:
    assert _offending("api", {"sync", "scim", "controller"}) == []


def test_no_import_cycle_between_the_parts_of_the_package() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in _files():
        source = _part(_module_name(path))
        if source is None:
            continue
        for imported in _imports(path):
            target = _part(imported)
            if target is not None and target != source:
                graph[source].add(target)
    assert _cycles(graph) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of parts (Tarjan), each listed sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_checks_see_relative_lazy_and_from_imports_and_cycles() -> None:
    """The checks above can fail: what they read is what Python would import."""
    source = (
        "import httpx\n"
        "from . import plan\n"
        "def later():\n"
        "    from ..sync import report\n"
        "    import personio_operator.controller.kube\n"
    )
    seen = {_part(name) for name in _imports_in(source, "personio_operator.scim")}
    assert seen == {"scim", "sync", "controller"}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": {"c"}}) == []
