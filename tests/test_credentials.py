"""The Deepgram API key: environment first, then the OS keyring; never in settings files."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import keyring
import pytest

from app.credentials import ENV_VAR, deepgram_api_key, redact, store_deepgram_api_key
from tests.conftest import ROOT
from tests.fake_keyring import MemoryKeyring


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv(ENV_VAR, raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_key_from_keyring_then_environment_wins(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert deepgram_api_key() is None
    store_deepgram_api_key("  from-keyring  ")
    assert deepgram_api_key() == "from-keyring"
    assert list(memory_keyring.items.values()) == ["from-keyring"]
    monkeypatch.setenv(ENV_VAR, "from-env")
    assert deepgram_api_key() == "from-env"
    monkeypatch.delenv(ENV_VAR)
    store_deepgram_api_key("")  # clearing deletes it
    store_deepgram_api_key("")  # and clearing twice is fine
    assert deepgram_api_key() is None


def test_redact() -> None:
    assert redact("GET /?x Token abc123", "abc123") == "GET /?x Token <redacted>"
    assert redact("nothing", None) == "nothing"


def test_deepgram_engine_without_a_key_says_how_to_give_one(tmp_path: object) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--engine", "deepgram", "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1
    assert "DEEPGRAM_API_KEY" in result.stderr and "keyring" in result.stderr
    assert "Traceback" not in result.stderr
