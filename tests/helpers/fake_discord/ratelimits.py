"""Discord's REST rate limits, as the fake answers them (off unless a test configures them).

``fake.rate_limit(r"POST /channels/\\d+/messages", limit=1, per=0.5)`` makes a per-route bucket: ``limit`` requests
per ``per`` seconds for each major parameter (channel, guild, webhook/interaction id + token), like Discord's buckets.
Every response of a limited route carries ``X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket``; a request over
the limit gets ``429`` with ``Retry-After``, ``X-RateLimit-Scope`` and the JSON body Discord sends
(``{"message": "You are being rate limited.", "retry_after": 0.42, "global": false}``). ``fake.rate_limit_global(limit,
per)`` limits every request except interaction callbacks and webhooks (Discord leaves interactions out of the
bot's global limit) and answers
``429`` with ``"global": true`` and ``X-RateLimit-Global: true``. discord.py retries a 429 only if it carries a ``Via``
header (without it, it assumes a Cloudflare ban), which Discord's responses always have.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass, field

RATE_LIMITED = "You are being rate limited."

#: interaction callbacks and interaction webhooks (token-authenticated) are not under the bot's global limit
_NOT_GLOBAL = ("/interactions/", "/webhooks/")

#: the parts of a path that make separate buckets of one route on Discord (channel, guild, webhook + token)
_MAJOR_PARAMETERS = re.compile(r"^/(?:channels|guilds)/(\d+)|^/(?:webhooks|interactions)/(\d+/[^/]+)")


@dataclass
class _Window:
    """One bucket's fixed window for one major parameter."""

    resets_at: float
    used: int = 0


@dataclass
class Bucket:
    """``limit`` requests per ``per`` seconds on the routes ``route`` (a regex over ``"METHOD /path"``) matches."""

    route: re.Pattern[str]
    limit: int
    per: float
    name: str
    is_global: bool = False
    _windows: dict[str, _Window] = field(default_factory=dict)

    def take(self, major: str, now: float) -> tuple[bool, int, float]:
        """Count one request; returns (allowed, remaining, seconds until the window resets)."""
        window = self._windows.get(major)
        if window is None or now >= window.resets_at:
            window = self._windows[major] = _Window(resets_at=now + self.per)
        reset_after = window.resets_at - now
        if window.used >= self.limit:
            return False, 0, reset_after
        window.used += 1
        return True, self.limit - window.used, reset_after


@dataclass
class Verdict:
    """What the limits say about one request: the headers to add and, when it is over a limit, the 429 body."""

    headers: dict[str, str]
    rejection: dict | None = None


class RateLimits:
    """The configured buckets of a fake; :meth:`check` is called for every REST request before it is handled."""

    def __init__(self) -> None:
        self.buckets: list[Bucket] = []
        self.global_bucket: Bucket | None = None
        #: ``(method, path, bucket name, global)`` of every request answered 429, in order
        self.rejected: list[tuple[str, str, str, bool]] = []

    def add(self, route: str, limit: int, per: float) -> Bucket:
        name = hashlib.sha1(route.encode()).hexdigest()[:16]
        bucket = Bucket(re.compile(route), limit, per, name)
        self.buckets.append(bucket)
        return bucket

    def set_global(self, limit: int, per: float) -> Bucket:
        self.global_bucket = Bucket(re.compile(".*"), limit, per, "global", is_global=True)
        return self.global_bucket

    def check(self, method: str, path: str) -> Verdict:
        now = time.monotonic()
        if self.global_bucket is not None and not path.startswith(_NOT_GLOBAL):
            allowed, _, reset_after = self.global_bucket.take("", now)
            if not allowed:
                return self._reject(method, path, self.global_bucket, reset_after, {"X-RateLimit-Global": "true"})
        route = f"{method} {path}"
        bucket = next((b for b in self.buckets if b.route.fullmatch(route)), None)
        if bucket is None:
            return Verdict({})
        match = _MAJOR_PARAMETERS.match(path)
        major = next((g for g in match.groups() if g), "") if match else ""
        allowed, remaining, reset_after = bucket.take(major, now)
        headers = {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket.name,
        }
        if allowed:
            return Verdict(headers)
        return self._reject(method, path, bucket, reset_after, headers)

    def _reject(self, method: str, path: str, bucket: Bucket, retry_after: float, headers: dict[str, str]) -> Verdict:
        self.rejected.append((method, path, bucket.name, bucket.is_global))
        headers = {
            **headers,
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": "global" if bucket.is_global else "user",
            "Via": "1.1 google",
        }
        body = {"message": RATE_LIMITED, "retry_after": round(retry_after, 3), "global": bucket.is_global}
        return Verdict(headers, body)
