"""The dependency rules of architecture.md §2, checked on the source (AST), not by convention."""

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
