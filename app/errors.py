"""Captionist's errors: one root, structured fields, never bare strings.

CaptionError
├── ConfigError                  a setting or command-line value is unusable
├── ModelError                   a model cannot be used                      (model)
│   ├── ModelNotFound            no source has it installed                  (model, tried)
│   ├── ModelHashMismatch        a file fails its pinned sha256   (model, file, expected, actual)
│   └── ModelDownloadError       a download failed or was truncated          (model, url, reason)
├── AudioError                   audio cannot be read or captured
│   ├── AudioFormatError         bad PCM, rate or channel layout             (reason)
│   ├── AudioFileError           an audio file cannot be decoded             (path, reason)
│   └── AudioDeviceError         a capture device cannot be opened or died   (device, reason)
├── ProtocolError                the peer broke the wire protocol            (close_code, reason)
│   └── ParamError               a handshake parameter is invalid            (param, value, reason)
├── EngineError                  the transcription engine failed             (engine, reason)
├── AutosaveError                the journal cannot be written (disk full)   (path, reason)
├── LibraryError                 the session library cannot do what was asked
│   ├── SessionNotFound          no saved session has that id                (session_id)
│   ├── SessionBusy              it is being recorded, or the name is taken  (session_id, reason)
│   │   └── JournalBusy          another writer holds it     (session_id, path, reason)
│   └── SearchUnavailable        this Python's sqlite3 cannot search         (reason)
└── ClientError                  talking to a transcription server failed
    ├── ServerUnavailable        it cannot be reached                        (url, reason)
    ├── HandshakeRejected        it refused the upgrade       (url, status, err_code, err_msg)
    └── ServerClosed             it closed the stream with an error          (code, reason)
"""

from __future__ import annotations


class CaptionError(Exception):
    """Root of every error Captionist raises on purpose."""


class ConfigError(CaptionError):
    pass


class AutosaveError(CaptionError):
    """The session journal could not be written; what was not saved is kept for a retry."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.reason = reason


class LibraryError(CaptionError):
    pass


class SessionNotFound(LibraryError):
    def __init__(self, session_id: str, where: str) -> None:
        super().__init__(f"no saved session {session_id!r} in {where}")
        self.session_id = session_id


class SessionBusy(LibraryError):
    """Left alone: a session being recorded, or a name another session has."""

    def __init__(self, session_id: str, reason: str) -> None:
        super().__init__(f"session {session_id}: {reason}")
        self.session_id = session_id
        self.reason = reason


class JournalBusy(SessionBusy):
    """A journal another writer holds (or that moved while it was opened): never written
    beside it. Nothing was written or marked."""

    def __init__(self, session_id: str, path: str, reason: str) -> None:
        super().__init__(session_id, reason)
        self.path = path


class SearchUnavailable(LibraryError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot search the sessions: {reason}")
        self.reason = reason


class ModelError(CaptionError):
    def __init__(self, model: str, message: str) -> None:
        super().__init__(message)
        self.model = model


class ModelNotFound(ModelError):
    def __init__(self, model: str, tried: list[str]) -> None:
        hint = "; ".join(tried) if tried else "no source knows it"
        super().__init__(model, f"model {model!r} is not installed ({hint})")
        self.tried = tried


class ModelHashMismatch(ModelError):
    def __init__(self, model: str, file: str, expected: str, actual: str) -> None:
        super().__init__(
            model,
            f"model {model!r}: file {file} fails its sha256 check "
            f"(expected {expected[:12]}…, got {actual[:12]}…); it will not be loaded",
        )
        self.file = file
        self.expected = expected
        self.actual = actual


class ModelDownloadError(ModelError):
    def __init__(self, model: str, url: str, reason: str) -> None:
        super().__init__(model, f"model {model!r}: download of {url} failed: {reason}")
        self.url = url
        self.reason = reason


class AudioError(CaptionError):
    pass


class AudioFormatError(AudioError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AudioFileError(AudioError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot read audio file {path}: {reason}")
        self.path = path
        self.reason = reason


class AudioDeviceError(AudioError):
    def __init__(self, device: str, reason: str) -> None:
        super().__init__(f"{device}: {reason}")
        self.device = device
        self.reason = reason


class ProtocolError(CaptionError):
    def __init__(self, close_code: int, reason: str) -> None:
        super().__init__(reason)
        self.close_code = close_code
        self.reason = reason


class ParamError(ProtocolError):
    """A handshake parameter is invalid; refused with HTTP 400 before the upgrade."""

    def __init__(self, param: str, value: str, reason: str) -> None:
        super().__init__(1008, f"invalid {param}={value!r}: {reason}")
        self.param = param
        self.value = value


class EngineError(CaptionError):
    def __init__(self, engine: str, reason: str) -> None:
        super().__init__(f"{engine} engine failed: {reason}")
        self.engine = engine
        self.reason = reason


class ClientError(CaptionError):
    pass


class ServerUnavailable(ClientError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach transcription server {url}: {reason}")
        self.url = url
        self.reason = reason


class HandshakeRejected(ClientError):
    def __init__(self, url: str, status: int, err_code: str, err_msg: str) -> None:
        super().__init__(f"server refused the stream (HTTP {status}, {err_code}): {err_msg}")
        self.url = url
        self.status = status
        self.err_code = err_code
        self.err_msg = err_msg


class ServerClosed(ClientError):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"server closed the stream: {code} {reason}".rstrip())
        self.code = code
        self.reason = reason
