"""A polite HTTP client on aiohttp: bounded concurrency, a request-rate cap, retries with exponential backoff.

Every attempt waits for a rate slot, then for a concurrency slot. Timeouts, connection errors, cut bodies, 408/429/5xx
and bodies that fail to decode (an HTML error page instead of JSON, an undecodable image) are retried with exponential
backoff and jitter; a 429's ``Retry-After`` is honoured and pauses every request, not only the one that got it. Other
4xx are final at once. When a request gives up it raises :class:`FetchError` with a short reason.
"""

from __future__ import annotations

import asyncio
import email.utils
import io
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
from PIL import Image

from catalog.scrape.errors import FetchError

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
REFERER = "https://comic.naver.com/"
MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
RETRYABLE_STATUS = frozenset({408, 425, 429})
NOT_FOUND_STATUS = frozenset({404, 410})
DEFAULT_CONCURRENCY = 4  # parallel requests
DEFAULT_RATE = 3.0  # requests per second at most


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``attempts`` counts the first try; delays are in seconds."""

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 60.0
    timeout: float = 20.0
    max_retry_after: float = 300.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.timeout <= 0 or self.max_retry_after < 0:
            raise ValueError("delays must be >= 0 and the timeout > 0")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay after failed attempt ``attempt`` (1-based): exponential, capped, with 'equal jitter' (50–100 %)."""
        delay = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return delay * (0.5 + 0.5 * rng.random())


class RateLimiter:
    """At most ``rate`` request starts per second, spaced evenly (``rate`` None or 0: unlimited)."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic):
        self.interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            start = max(now, self._next, self._paused_until)
            self._next = start + self.interval
        wait = start - now
        if wait > 0:
            await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Hold back every request for ``seconds`` from now (after a 429 with ``Retry-After``)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)


class RetryableBody(Exception):
    """Raised by a body decoder: the body is unusable but another attempt may succeed."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class ClientStats:
    requests: int = 0
    retries: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _snippet(body: bytes, size: int = 60) -> str:
    text = body[:size].decode("utf-8", "replace").replace("\n", " ").strip()
    return repr(text + ("…" if len(body) > size else ""))


def decode_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RetryableBody("not_json", f"body is not JSON: {_snippet(body)}") from None


def decode_image(body: bytes) -> str:
    """Fully decode an image (``load()``: ``verify()`` misses truncated files); return its format (``JPEG``…)."""
    if not body:
        raise RetryableBody("bad_image", "empty body")
    try:
        with Image.open(io.BytesIO(body)) as im:  # the size is checked from the header, before decoding
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise FetchError("too_large", f"{im.width}×{im.height} pixels")
            im.load()
            fmt = im.format or "JPEG"
            if im.width < 1 or im.height < 1:
                raise RetryableBody("bad_image", "empty image")
    except Image.DecompressionBombError as exc:
        raise FetchError("too_large", str(exc)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise RetryableBody("bad_image", f"cannot decode image ({exc})") from None
    return fmt


class PoliteClient:
    """Async HTTP GETs with politeness and retries. Use as ``async with PoliteClient(...) as client``."""

    def __init__(
        self,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        rate: float | None = DEFAULT_RATE,
        policy: RetryPolicy | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        referer: str = REFERER,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.policy = policy or RetryPolicy()
        self.limiter = RateLimiter(rate)
        self.headers = {"User-Agent": user_agent, "Referer": referer, "Accept-Language": "ko,en;q=0.8"}
        self.stats = ClientStats()
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._sem = asyncio.Semaphore(concurrency)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> PoliteClient:
        connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=self.concurrency)
        self._session = aiohttp.ClientSession(headers=self.headers, connector=connector, raise_for_status=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get_json(self, url: str, params: Mapping[str, str | int] | None = None) -> Any:
        async def decode(body: bytes) -> Any:
            return decode_json(body)

        return await self._fetch(url, params, "application/json, text/plain, */*", MAX_JSON_BYTES, decode)

    async def get_image(self, url: str) -> tuple[bytes, str]:
        """Download and fully decode an image; return ``(bytes, format)``."""

        async def decode(body: bytes) -> tuple[bytes, str]:
            return body, await asyncio.to_thread(decode_image, body)

        return await self._fetch(url, None, "image/avif,image/webp,image/*,*/*;q=0.8", MAX_IMAGE_BYTES, decode)

    async def _read(self, resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
        length = resp.content_length
        if length is not None and length > max_bytes:
            raise FetchError("too_large", f"{length} bytes")
        chunks, size = [], 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise FetchError("too_large", f"more than {max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _attempt(
        self, url: str, query: dict[str, str], accept: str, max_bytes: int
    ) -> tuple[int | None, bytes, float | None, str, str]:
        """One request: ``(status, body, retry_after, cause, note)``; ``cause`` is set when the transport failed."""
        assert self._session is not None
        timeout = aiohttp.ClientTimeout(total=self.policy.timeout)
        await self.limiter.acquire()
        async with self._sem:
            self.stats.requests += 1
            try:
                async with self._session.get(
                    url, params=query or None, headers={"Accept": accept}, timeout=timeout
                ) as resp:
                    if resp.status == 200:
                        return 200, await self._read(resp, max_bytes), None, "", ""
                    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                    resp.release()
                    return resp.status, b"", retry_after, "", ""
            except TimeoutError:
                return None, b"", None, "timeout", f"no complete answer within {self.policy.timeout:g} s"
            except aiohttp.ClientPayloadError as exc:
                return None, b"", None, "truncated", f"body cut short ({exc})"
            except (aiohttp.ClientConnectionError, aiohttp.ClientResponseError, OSError) as exc:
                return None, b"", None, "connection", f"{type(exc).__name__}: {exc}".strip()

    async def _fetch(
        self,
        url: str,
        params: Mapping[str, str | int] | None,
        accept: str,
        max_bytes: int,
        decode: Callable[[bytes], Awaitable[T]],
    ) -> T:
        if self._session is None:
            raise RuntimeError("PoliteClient used outside 'async with'")
        policy = self.policy
        query = {k: str(v) for k, v in (params or {}).items()}
        for attempt in range(1, policy.attempts + 1):
            status, body, retry_after, cause, note = await self._attempt(url, query, accept, max_bytes)
            if status == 200:
                try:
                    return await decode(body)
                except RetryableBody as exc:
                    cause, note = exc.reason, exc.detail
            elif status in NOT_FOUND_STATUS:
                self.stats.failures["not_found"] += 1
                raise FetchError("not_found", f"HTTP {status}", attempts=attempt, status=status)
            elif status is not None and status not in RETRYABLE_STATUS and status < 500:
                self.stats.failures[f"http_{status}"] += 1
                raise FetchError(f"http_{status}", f"HTTP {status}", attempts=attempt, status=status)
            elif status is not None:
                cause, note = f"http_{status}", f"HTTP {status}"
            if attempt == policy.attempts:
                self.stats.failures[cause] += 1
                raise FetchError(cause, f"{note}; gave up after {attempt} attempts", attempts=attempt, status=status)
            self.stats.retries[cause] += 1
            delay = policy.backoff(attempt, self._rng)
            if status == 429:  # slow everyone down, at least for as long as the server asked
                delay = max(delay, min(retry_after or 0.0, policy.max_retry_after))
                self.limiter.pause(delay)
            log.debug("retrying %s in %.2f s after %s (attempt %d)", url, delay, note, attempt)
            await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover
