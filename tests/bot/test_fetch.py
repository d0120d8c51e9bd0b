"""The guarded link fetch: addresses checked after resolution and on every redirect, the body read under a cap."""

from __future__ import annotations

import socket

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver

from bot import fetch
from bot.errors import BotUserError, LinkRefusedError, NotAnImageError
from core.errors import ImageTooLargeError

TIMEOUT = 10.0  # seconds a whole fetch may take (the bot passes TOONMATCH_DOWNLOAD_TIMEOUT)


async def fetch_link(url: str, **kwargs) -> bytes:
    return await fetch.fetch_link(url, **{"timeout": TIMEOUT, **kwargs})

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


class StubResolver(AbstractResolver):
    """Every host resolves to ``addresses[host]`` (default ``addresses["*"]``); records what it was asked."""

    def __init__(self, addresses: dict[str, str]) -> None:
        self.addresses = addresses
        self.asked: list[str] = []

    async def resolve(self, host, port=0, family=socket.AF_INET):
        self.asked.append(host)
        address = self.addresses.get(host, self.addresses.get("*"))
        fam = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [{"hostname": host, "host": address, "port": port, "family": fam, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "127.0.0.1",
        "224.0.0.1",
        "0.0.0.0",
        "fc00::1",
        "fe80::1",
    ],
)
async def test_a_host_resolving_to_a_private_address_is_refused(address):
    resolver = StubResolver({"*": address})
    with pytest.raises(LinkRefusedError, match="public internet"):
        await fetch_link("http://images.example.com/a.png", resolver=resolver)
    assert resolver.asked == ["images.example.com"]


@pytest.mark.parametrize("url", ["http://10.0.0.1/a.png", "http://[::1]/a.png", "http://[::ffff:127.0.0.1]/a.png"])
async def test_an_ip_literal_is_checked_too(url):
    resolver = StubResolver({"*": "93.184.216.34"})
    with pytest.raises(LinkRefusedError, match="public internet"):
        await fetch_link(url, resolver=resolver)
    assert resolver.asked == []  # aiohttp does not resolve literals: the check did not rely on the resolver


async def test_a_public_address_passes_the_check():
    guard = fetch.GuardedResolver(StubResolver({"*": "93.184.216.34"}))
    (result,) = await guard.resolve("images.example.com", 80)
    assert result["host"] == "93.184.216.34"  # the very address aiohttp then connects to
    for address in ("8.8.8.8", "2606:4700:4700::1111"):
        fetch.check_address("x", address, allow_private=False)  # no error


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.png", "file:///etc/passwd", "data:image/png;base64,AAAA", "gopher://x"]
)
async def test_a_non_http_scheme_is_refused(url):
    with pytest.raises(LinkRefusedError, match="http"):
        await fetch_link(url, resolver=StubResolver({"*": "93.184.216.34"}))


def test_exactly_one_of_image_and_link():
    with pytest.raises(BotUserError, match="no image and no link"):
        fetch.source_of(None, None)
    with pytest.raises(BotUserError, match="no image and no link"):
        fetch.source_of(None, "   ")
    source = fetch.source_of(None, "https://example.com/pics/cover.png?x=1")
    assert source.link and source.name == "cover.png" and source.url.startswith("https://")
    with pytest.raises(LinkRefusedError):
        fetch.source_of(None, "javascript:alert(1)")


# --------------------------------------------------------------------------- a real local server


@pytest.fixture
async def local():
    """A local server: /png (an image), /big (a chunked body with no length), /to/<n> (redirect chains),
    /private (redirects to 10.0.0.1), /html; yields its base URL and the count of /big bytes actually sent."""
    sent = {"big": 0}

    async def png(request):
        return web.Response(body=PNG, content_type="image/png")

    async def big(request):
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        try:
            for _ in range(1000):
                await resp.write(b"\0" * 64 * 1024)
                sent["big"] += 64 * 1024
        except (ConnectionResetError, RuntimeError):
            pass
        return resp

    async def chain(request):
        n = int(request.match_info["n"])
        raise web.HTTPFound("/png" if n == 0 else f"/to/{n - 1}")

    async def private(request):
        raise web.HTTPFound("http://10.0.0.1/secret.png")

    async def private_name(request):
        raise web.HTTPFound(f"http://intranet.example:{request.url.port}/png")

    async def html(request):
        return web.Response(text="<html></html>", content_type="text/html")

    app = web.Application()
    app.add_routes(
        [
            web.get("/png", png),
            web.get("/big", big),
            web.get("/to/{n}", chain),
            web.get("/private", private),
            web.get("/private-name", private_name),
            web.get("/html", html),
        ]
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", sent
    finally:
        await runner.cleanup()


async def test_a_local_server_is_refused_by_default_and_fetched_when_allowed(local):
    base, _ = local
    with pytest.raises(LinkRefusedError, match="public internet"):
        await fetch_link(f"{base}/png")
    assert await fetch_link(f"{base}/png", allow_private=True) == PNG


async def test_up_to_three_redirects_are_followed_and_more_refused(local):
    base, _ = local
    assert await fetch_link(f"{base}/to/2", allow_private=True) == PNG  # 3 redirects
    with pytest.raises(LinkRefusedError, match="more than 3"):
        await fetch_link(f"{base}/to/3", allow_private=True)


@pytest.mark.parametrize("path", ["/private", "/private-name"])
async def test_a_redirect_to_a_private_address_is_refused(local, monkeypatch, path):
    """The local server stands in for a public site (its address counted as public here); its redirect to
    10.0.0.1, as an IP literal or as a name resolving there, is refused."""
    base, _ = local
    port = base.rsplit(":", 1)[1]
    real = fetch.is_public
    monkeypatch.setattr(fetch, "is_public", lambda ip: str(ip) == "127.0.0.1" or real(ip))
    resolver = StubResolver({"site.example": "127.0.0.1", "intranet.example": "10.0.0.1"})
    assert await fetch_link(f"http://site.example:{port}/png", resolver=resolver) == PNG  # the stand-in works
    with pytest.raises(LinkRefusedError, match="public internet"):
        await fetch_link(f"http://site.example:{port}{path}", resolver=resolver)


async def test_a_body_over_the_cap_is_cut_and_refused(local):
    base, sent = local
    with pytest.raises(ImageTooLargeError, match="over"):
        await fetch_link(f"{base}/big", allow_private=True, max_bytes=256 * 1024)
    assert sent["big"] < 1000 * 64 * 1024  # reading stopped: the server did not get to send it all


async def test_a_page_that_is_not_an_image_is_refused(local):
    base, _ = local
    with pytest.raises(NotAnImageError, match="not an image"):
        await fetch_link(f"{base}/html", allow_private=True)
