"""Verified downloads: stream to a `.part` file, check length and sha256, then rename."""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from app.errors import ModelDownloadError, ModelHashMismatch

# (file name, bytes done, bytes total)
Progress = Callable[[str, int, int], None]
HF_ENDPOINT = "https://huggingface.co"
_CHUNK = 1 << 16
_DIGITS = re.compile(r"[0-9]+")


def hf_url(endpoint: str, repo: str, revision: str, filename: str) -> str:
    return f"{endpoint.rstrip('/')}/{repo}/resolve/{revision}/{filename}"


def _check_length(header: str | None, expected_size: int, model: str, url: str) -> None:
    """Refuse a Content-Length that cannot be the file before a byte of the body is read."""
    if header is None:
        return  # chunked: the size is checked as the body comes
    if not _DIGITS.fullmatch(header.strip()):
        raise ModelDownloadError(model, url, f"Content-Length {header!r} is not a number of bytes")
    if int(header) != expected_size:
        raise ModelDownloadError(
            model, url, f"Content-Length says {int(header)} bytes, expected {expected_size}"
        )


def download_file(
    url: str,
    dest: Path,
    *,
    model: str,
    expected_sha256: str,
    expected_size: int,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> None:
    """Download `url` to `dest`; nothing is left at `dest` unless it is complete and verified."""
    partial = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    done = 0
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "captionist"})
        with (
            urllib.request.urlopen(request, timeout=timeout) as response,
            partial.open("wb") as out,
        ):
            _check_length(response.headers.get("Content-Length"), expected_size, model, url)
            while True:
                try:
                    # One byte past the expected size at most: enough to know there is more.
                    chunk = response.read(min(_CHUNK, expected_size + 1 - done))
                except http.client.IncompleteRead as exc:
                    raise ModelDownloadError(
                        model,
                        url,
                        f"connection closed after {done + len(exc.partial)} of "
                        f"{expected_size} bytes (truncated)",
                    ) from None
                if not chunk:
                    break
                if done + len(chunk) > expected_size:
                    raise ModelDownloadError(
                        model, url, f"the server sent more than the expected {expected_size} bytes"
                    )
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(dest.name, done, expected_size)
            out.flush()
            os.fsync(out.fileno())
        if done != expected_size:
            raise ModelDownloadError(
                model, url, f"got {done} bytes, expected {expected_size} (truncated download)"
            )
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise ModelHashMismatch(model, dest.name, expected_sha256, actual)
        os.replace(partial, dest)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        raise ModelDownloadError(model, url, str(reason)) from exc
    finally:
        partial.unlink(missing_ok=True)
