"""The polite client against the replay server: retries, backoff, Retry-After, rate cap, concurrency, headers."""

import asyncio
import random
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from catalog.scrape.client import REFERER, PoliteClient, RetryPolicy, decode_image, parse_retry_after
from catalog.scrape.errors import FetchError
from tests.catalog.scrape.conftest import FAST, TIMEOUT_FAULT_DELAY
from tests.catalog.scrape.replay_server import Fault

DETAIL = "/api/article/list/info"


def client(**kw) -> PoliteClient:
    return PoliteClient(**{"rate": None, "policy": FAST, **kw})


def test_default_policy_is_polite():
    policy = RetryPolicy()
    assert policy.attempts >= 4
    c = PoliteClient()
    assert c.concurrency == 4 and c.limiter.interval == pytest.approx(1 / 3)
    assert "Mozilla/5.0" in c.headers["User-Agent"] and c.headers["Referer"] == "https://comic.naver.com/"


def test_backoff_is_exponential_capped_and_jittered():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    rng = random.Random(0)
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0)]:
        delays = {policy.backoff(attempt, rng) for _ in range(20)}
        assert all(full * 0.5 <= d <= full for d in delays)
        assert len(delays) > 1, "jitter"


def test_parse_retry_after():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0


async def test_retries_500_then_succeeds(replay):
    server = await replay(faults=[Fault("500", "titleId=101", times=2)])
    async with client() as c:
        payload = await c.get_json(server.base + DETAIL, {"titleId": 101})
    assert payload["titleId"] == 101
    assert [h.outcome for h in server.hits("titleId=101")] == ["500", "500", "ok"]
    assert c.stats.retries["http_500"] == 2


async def test_gives_up_after_four_attempts(replay):
    server = await replay(faults=[Fault("503", "titleId=101", times=None)])
    async with client() as c:
        with pytest.raises(FetchError) as info:
            await c.get_json(server.base + DETAIL, {"titleId": 101})
    assert info.value.reason == "http_503" and info.value.attempts == 4
    assert "gave up after 4 attempts" in info.value.detail
    assert len(server.hits("titleId=101")) == 4


async def test_404_is_final_at_once(replay):
    server = await replay()
    async with client() as c:
        with pytest.raises(FetchError) as info:
            await c.get_json(server.base + DETAIL, {"titleId": 107})
    assert info.value.reason == "not_found" and info.value.status == 404
    assert len(server.hits("titleId=107")) == 1


async def test_429_honours_retry_after(replay):
    server = await replay(faults=[Fault("429", "titleId=101", retry_after="1")])
    async with client() as c:
        start = time.monotonic()
        await c.get_json(server.base + DETAIL, {"titleId": 101})
        elapsed = time.monotonic() - start
    assert elapsed >= 0.95, "waited for Retry-After: 1 although the backoff is milliseconds"
    hits = server.hits("titleId=101")
    assert [h.outcome for h in hits] == ["429", "ok"] and hits[1].at - hits[0].at >= 0.95
    assert c.stats.retries["http_429"] == 1


async def test_429_retry_after_pauses_every_request(replay):
    server = await replay(faults=[Fault("429", "titleId=101", retry_after="1")])
    async with client() as c:
        first = asyncio.create_task(c.get_json(server.base + DETAIL, {"titleId": 101}))
        for _ in range(500):  # until the client has seen the 429 and paused its limiter
            if c.limiter._paused_until:
                break
            await asyncio.sleep(0.01)
        start = time.monotonic()
        await c.get_json(server.base + DETAIL, {"titleId": 102})
        assert time.monotonic() - start >= 0.5
        await first
    (rejected,) = server.hits("titleId=101", "429")
    (other,) = server.hits("titleId=102")
    assert other.at - rejected.at >= 0.9, "the other request waited for the Retry-After too"


async def test_timeout_is_retried(replay):
    server = await replay(faults=[Fault("timeout", "titleId=101", delay=TIMEOUT_FAULT_DELAY)])
    async with client() as c:
        payload = await c.get_json(server.base + DETAIL, {"titleId": 101})
    assert payload["titleId"] == 101 and c.stats.retries["timeout"] == 1


async def test_html_instead_of_json_is_retried_then_reported(replay):
    server = await replay(faults=[Fault("html", "titleId=101"), Fault("html", "titleId=102", times=None)])
    async with client() as c:
        assert (await c.get_json(server.base + DETAIL, {"titleId": 101}))["titleId"] == 101
        with pytest.raises(FetchError) as info:
            await c.get_json(server.base + DETAIL, {"titleId": 102})
    assert info.value.reason == "not_json" and "DOCTYPE" in info.value.detail


@pytest.mark.parametrize("kind", ["truncate", "cut"])
async def test_truncated_image_is_retried(replay, kind):
    server = await replay(faults=[Fault(kind, "/img/")])
    url = server.image_url("https://image-comic.pstatic.net/webtoon/101/thumbnail/a.jpg")
    async with client() as c:
        data, fmt = await c.get_image(url)
    assert data == server.image_bytes("ic/webtoon/101/thumbnail/a.jpg") and fmt == "JPEG"
    assert [h.outcome for h in server.hits("/img/")] == [kind, "ok"]
    assert c.stats.retries["bad_image" if kind == "truncate" else "truncated"] == 1


async def test_always_truncated_image_fails_as_bad_image(replay):
    server = await replay(faults=[Fault("truncate", "/img/", times=None)])
    async with client() as c:
        with pytest.raises(FetchError) as info:
            await c.get_image(server.base + "/img/ic/webtoon/1/thumbnail/a.jpg")
    assert info.value.reason == "bad_image"


def test_decode_image_rejects_truncated_jpeg_that_verify_would_accept():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (200, 150), (10, 200, 30)).save(buf, "JPEG")
    data = buf.getvalue()
    assert decode_image(data) == "JPEG"
    from catalog.scrape.client import RetryableBody

    with pytest.raises(RetryableBody):
        decode_image(data[: len(data) * 2 // 3])
    with pytest.raises(RetryableBody):
        decode_image(b"")


async def test_browser_headers_and_referer_on_every_request(replay):
    server = await replay()
    async with client() as c:
        await c.get_json(server.base + DETAIL, {"titleId": 101})
        await c.get_image(server.base + "/img/ic/webtoon/101/thumbnail/a.jpg")
    assert len(server.log) == 2
    for hit in server.log:
        assert hit.user_agent.startswith("Mozilla/5.0") and hit.referer == REFERER


async def test_rate_cap(replay):
    server = await replay()
    async with client(rate=20.0, concurrency=4) as c:
        start = time.monotonic()
        await asyncio.gather(*(c.get_json(server.base + DETAIL, {"titleId": 101}) for _ in range(10)))
        elapsed = time.monotonic() - start
    assert elapsed >= 0.4, "10 requests at 20/s take at least 0.45 s"
    arrivals = sorted(h.at for h in server.log)
    assert arrivals[-1] - arrivals[0] >= 0.4


async def test_concurrency_is_bounded(replay):
    server = await replay(latency=0.1)
    async with client(concurrency=2) as c:
        await asyncio.gather(*(c.get_json(server.base + DETAIL, {"titleId": 101}) for _ in range(8)))
    assert server.max_in_flight == 2


async def test_connection_refused_gives_up_with_reason():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with client() as c:
        with pytest.raises(FetchError) as info:
            await c.get_json(f"http://127.0.0.1:{port}{DETAIL}", {"titleId": 1})
    assert info.value.reason == "connection" and info.value.attempts == 4
    assert c.stats.retries["connection"] == 3


def test_decode_image_refuses_huge_images_before_decoding():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8000, 6000)).save(buf, "PNG")
    with pytest.raises(FetchError) as info:
        decode_image(buf.getvalue())
    assert info.value.reason == "too_large"
