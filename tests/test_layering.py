"""The dependency rules (docs/design.md, The layers), checked on the source (AST), not by habit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"
QT = ("PySide6", "qasync", "shiboken6")
COMPOSITION_ROOT = {"main.py", "cli.py", "__main__.py"}


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((APP / package).rglob("*.py"))


def offending(paths: list[Path], banned: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(APP)} imports {name}"
        for path in paths
        for name in sorted(imports(path))
        if any(name == b or name.startswith(b + ".") for b in banned)
    ]


@pytest.mark.parametrize("package", ["protocol", "domain"])
def test_protocol_and_domain_are_pure(package: str) -> None:
    banned = (
        "asyncio",
        "websockets",
        "sounddevice",
        "socket",
        *QT,
        "app.server",
        "app.client",
        "app.audio",
        "app.services",
        "app.ui",
        "app.commands",
    )
    assert offending(modules(package), banned) == []


def test_only_the_ui_and_the_composition_root_import_qt() -> None:
    def may_use_qt(path: Path) -> bool:
        relative = path.relative_to(APP)
        return relative.parts[0] == "ui" or (
            relative.name in COMPOSITION_ROOT and len(relative.parts) == 1
        )

    others = [p for p in APP.rglob("*.py") if not may_use_qt(p)]
    assert offending(others, QT) == []


def test_server_never_imports_the_gui_side() -> None:
    banned = ("app.ui", "app.client", "app.audio", "app.services", "app.commands")
    assert offending(modules("server"), banned) == []


def test_client_does_not_reach_into_the_server() -> None:
    assert offending(modules("client"), ("app.server", "app.ui", *QT)) == []


def test_the_checker_sees_imports() -> None:
    """Guard against a checker that passes because it finds nothing."""
    assert "websockets.asyncio.server" in imports(APP / "server" / "server.py")
    assert offending([APP / "server" / "server.py"], ("websockets",))


# -- no import cycle anywhere in app/ --------------------------------------------------------


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_imports(path: Path, known: set[str]) -> set[str]:
    """The app modules `path` imports anywhere in it: at the top, under TYPE_CHECKING, in a
    function; relative or absolute; `from package import module` counts the module."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, *([node.module] if node.module else [])])
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if target in known:
                    found.add(target)
                elif base in known:
                    found.add(base)
    found.discard(name)
    return found


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def app_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in APP.rglob("*.py")}
    known = set(paths)
    return {name: app_imports(path, known) for name, path in paths.items()}


def test_no_import_cycle_in_app() -> None:
    assert import_cycles(app_graph()) == []


def test_the_cycle_finder_finds_a_cycle_through_type_checking_and_relative_imports(
    tmp_path: Path,
) -> None:
    """Guard against a finder that passes because it sees nothing."""
    graph = app_graph()
    assert "app.services.session" in graph["app.ui.controller"]  # the package: core, ...
    graph["app.services.session.core"] = graph["app.services.session.core"] | {"app.ui.controller"}
    assert any("app.ui.controller" in cycle for cycle in import_cycles(graph))
    package = tmp_path / "app" / "ui"
    package.mkdir(parents=True)
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import b\n"
    )
    known = {"app.ui.a", "app.ui.b"}
    global APP
    real, APP = APP, tmp_path / "app"
    try:
        assert app_imports(package / "a.py", known) == {"app.ui.b"}
    finally:
        APP = real


def test_no_ui_module_imports_the_journal() -> None:
    """The session core (app/services/session/) owns the journal; the window never writes it."""
    assert offending(modules("ui"), ("app.services.journal",)) == []
