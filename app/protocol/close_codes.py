"""WebSocket close codes the protocol uses (docs/server.md, Protocol)."""

from enum import IntEnum


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down
    INVALID_DATA = 1007  # odd-length PCM, malformed JSON
    POLICY = 1008  # bad data that is not malformed (e.g. text where audio belongs)
    TOO_BIG = 1009  # frame over the size limit
    INTERNAL = 1011  # idle timeout or engine failure
    TRY_LATER = 1013  # overloaded
    SESSION_LIMIT = 4408  # maximum session length reached
    RATE_LIMIT = 4429  # audio sent much faster than real time
