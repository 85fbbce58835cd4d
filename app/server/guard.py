"""Who may open a session, and how much: origin and host checks, per-client caps, rate limits.

Pure policy (the clock is passed in), so each rule is tested without sockets.
- Origin: a browser page on another site must not use a local server with the user's
  ambient access (cross-site WebSocket hijacking). Clients that are not browsers send no
  Origin and are judged by the token alone.
- Host: a loopback server answers only to loopback names, so a DNS-rebinding page cannot
  reach it through a name of its own.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from dataclasses import dataclass, field

from app.protocol.pacing import AudioRate

DEFAULT_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_allowed(origin: str | None, patterns: tuple[str, ...]) -> bool:
    """True for no Origin (not a browser) or one matching a pattern (`*` matches a port)."""
    if origin is None:
        return True
    origin = origin.strip().lower().rstrip("/")
    for pattern in patterns:
        pattern = pattern.lower().rstrip("/")
        if pattern.endswith(":*"):
            base = pattern[:-2]
            if origin == base or (
                origin.startswith(base + ":") and origin[len(base) + 1 :].isdigit()
            ):
                return True
        elif fnmatch.fnmatchcase(origin, pattern):
            return True
    return False


def host_name(host_header: str) -> str:
    """The name part of a Host header: `[::1]:8000` -> `::1`, `localhost:80` -> `localhost`."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host_header: str | None, bind_host: str, extra: tuple[str, ...]) -> bool:
    if not is_loopback(bind_host):
        return True  # a team server is reached by names we cannot know; the token guards it
    if host_header is None:
        return False
    name = host_name(host_header)
    return name in LOOPBACK_NAMES or name in {h.lower() for h in extra}


@dataclass
class TokenBucket:
    """`rate` events per second on average, bursts up to `burst`."""

    rate: float
    burst: float
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens, self.updated = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class ClientLimits:
    """Per remote address: concurrent sessions and the pace of connection attempts."""

    max_sessions: int = 4
    attempts_per_s: float = 2.0
    attempt_burst: float = 20.0
    sessions: dict[str, int] = field(default_factory=dict)
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def admit(self, client: str, now: float) -> str | None:
        """None to admit; otherwise the reason for refusing (HTTP 429)."""
        bucket = self.buckets.setdefault(
            client, TokenBucket(self.attempts_per_s, self.attempt_burst)
        )
        if not bucket.take(now):
            return "too many connection attempts; slow down"
        if self.sessions.get(client, 0) >= self.max_sessions:
            return f"at most {self.max_sessions} sessions per client"
        return None

    def opened(self, client: str) -> None:
        self.sessions[client] = self.sessions.get(client, 0) + 1

    def closed(self, client: str) -> None:
        left = self.sessions.get(client, 0) - 1
        if left > 0:
            self.sessions[client] = left
        else:
            self.sessions.pop(client, None)
        if len(self.buckets) > 10_000:  # forget idle clients; memory stays bounded
            self.buckets = {k: v for k, v in self.buckets.items() if k in self.sessions}


@dataclass
class AudioRateLimit:
    """Audio may run ahead of real time by `burst_s` (a reconnecting client drains its
    buffer), and on average at most `factor` times real time after that."""

    factor: float = 2.0
    burst_s: float = 150.0

    def exceeded(self, audio_s: float, elapsed_s: float) -> bool:
        return audio_s > self.burst_s + self.factor * elapsed_s

    def advertised(self) -> AudioRate:
        """What the handshake response tells clients, so they pace themselves under it."""
        return AudioRate(self.factor, self.burst_s)
