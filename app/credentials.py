"""The Deepgram API key: from the environment or the OS keyring, never from settings files.

The key is a secret: it is never logged, never put in a URL, and never written in plain text;
the desktop app stores it through `keyring` (Secret Service, Keychain, Credential Manager).
"""

from __future__ import annotations

import contextlib
import logging
import os

log = logging.getLogger(__name__)

ENV_VAR = "DEEPGRAM_API_KEY"
KEYRING_SERVICE = "captionist"
KEYRING_USER = "deepgram-api-key"


def deepgram_api_key() -> str | None:
    """The key from $DEEPGRAM_API_KEY, else the OS keyring; None when neither has one."""
    key = os.environ.get(ENV_VAR, "").strip()
    if key:
        return key
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            stored = keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
        except KeyringError as exc:
            log.info("no OS keyring available: %s", type(exc).__name__)
            return None
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None
    return stored.strip() if stored else None


def store_deepgram_api_key(key: str) -> None:
    """Save (or, with an empty key, delete) the key in the OS keyring. Raises KeyringError."""
    import keyring
    from keyring.errors import PasswordDeleteError

    if key.strip():
        keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key.strip())
        return
    with contextlib.suppress(PasswordDeleteError):
        keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)


def redact(text: str, secret: str | None) -> str:
    """`text` with the secret replaced, for error messages that may quote a request."""
    return text.replace(secret, "<redacted>") if secret else text
