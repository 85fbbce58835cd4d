"""The build scripts in packaging/ as modules, for their tests (`packaging` is not a package
here: PyPI has one of that name, so they are loaded from their files)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from tests.conftest import ROOT


def packaging_script(name: str) -> ModuleType:
    """packaging/<name>.py, loaded afresh."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "packaging" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
