"""Getting image bytes out of messages: refused early by declared type and size, bounded downloads."""

from __future__ import annotations

from unittest.mock import MagicMock

import aiohttp
import discord
import pytest
from aiohttp import web

from bot import images
from bot.errors import NoImageError, NotAnImageError
from core.errors import BadImageError, ImageTooLargeError

TIMEOUT = 30.0  # seconds: room on a busy machine (the timeout itself is pinned in test_downloads.py)


async def _download(session: aiohttp.ClientSession, name: str, url: str) -> bytes:
    return await images.download(images.ImageSource(name, None, None, url=url), session, timeout=TIMEOUT)


def _attachment(filename="a.png", content_type="image/png", size=1000):
    att = MagicMock(spec=discord.Attachment)
    att.filename, att.content_type, att.size = filename, content_type, size
    return att


def _message(attachments=(), embeds=()):
    msg = MagicMock(spec=discord.Message)
    msg.attachments, msg.embeds = list(attachments), list(embeds)
    return msg


@pytest.mark.parametrize(
    ("name", "ctype", "size", "error"),
    [
        ("notes.txt", "text/plain", 10, NotAnImageError),
        ("logo.svg", "image/svg+xml", 10, NotAnImageError),
        ("clip.mp4", None, 10, NotAnImageError),
        ("big.png", "image/png", images.MAX_BYTES + 1, ImageTooLargeError),
        ("empty.png", "image/png", 0, BadImageError),
    ],
)
def test_refused_before_download(name, ctype, size, error):
    with pytest.raises(error):
        images.check_attachment(_attachment(name, ctype, size))


@pytest.mark.parametrize(("name", "ctype"), [("a.png", "image/png"), ("b.JPG", None), ("c.webp", "image/webp; x=1")])
def test_images_pass_the_early_checks(name, ctype):
    assert images.check_attachment(_attachment(name, ctype)).attachment is not None


def test_find_image_prefers_an_image_attachment_over_embeds():
    embed = discord.Embed.from_dict(
        {"type": "image", "url": "https://x/y.png", "thumbnail": {"url": "https://x/y.png"}}
    )
    msg = _message([_attachment("doc.pdf", "application/pdf"), _attachment("p.png")], [embed])
    assert images.find_image(msg).name == "p.png"


def test_find_image_falls_back_to_an_image_embed():
    embed = discord.Embed.from_dict(
        {"type": "rich", "image": {"url": "https://cdn/x.png", "proxy_url": "https://p/x.png"}}
    )
    source = images.find_image(_message([], [embed]))
    assert source.url == "https://p/x.png" and source.attachment is None


def test_find_images_lists_attachments_then_distinct_embeds_up_to_ten():
    embed = discord.Embed.from_dict(
        {"type": "image", "url": "https://x/e.png", "thumbnail": {"url": "https://x/e.png"}}
    )
    atts = [_attachment(f"p{i}.png") for i in range(11)] + [_attachment("doc.pdf", "application/pdf")]
    assert [s.name for s in images.find_images(_message(atts[:2], [embed, embed]))] == ["p0.png", "p1.png", "e.png"]
    assert len(images.find_images(_message(atts, [embed]))) == images.MAX_CHOICES == 10


def test_a_found_image_is_checked_only_once_chosen():
    big = _attachment("big.png", size=images.MAX_BYTES + 1)
    found = images.find_images(_message([_attachment("ok.png"), big]))
    assert [s.name for s in found] == ["ok.png", "big.png"]  # offered ...
    with pytest.raises(ImageTooLargeError):
        images.check_source(found[1])  # ... and refused when picked


def test_find_image_explains_what_is_missing():
    with pytest.raises(NoImageError):
        images.find_image(_message())
    with pytest.raises(NotAnImageError):
        images.find_image(_message([_attachment("doc.pdf", "application/pdf")]))


@pytest.fixture
async def server():
    async def image(request):
        return web.Response(body=b"\x89PNG" + b"0" * 100, content_type="image/png")

    async def html(request):
        return web.Response(text="<html></html>", content_type="text/html")

    async def big(request):
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})  # no Content-Length: chunked
        await resp.prepare(request)
        for _ in range(10):
            await resp.write(b"0" * 1000)
        return resp

    app = web.Application()
    app.router.add_get("/image.png", image)
    app.router.add_get("/page", html)
    app.router.add_get("/big.png", big)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    async with aiohttp.ClientSession() as session:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", session
    await runner.cleanup()


async def test_download_from_an_embed_url(server):
    base, session = server
    data = await _download(session, "image.png", f"{base}/image.png")
    assert data.startswith(b"\x89PNG")


async def test_download_refuses_a_declared_non_image_and_missing_files(server):
    base, session = server
    with pytest.raises(NotAnImageError):
        await _download(session, "page", f"{base}/page")
    with pytest.raises(BadImageError, match="HTTP 404"):
        await _download(session, "x.png", f"{base}/missing.png")


async def test_download_stops_at_the_size_limit_while_streaming(server, monkeypatch):
    base, session = server
    monkeypatch.setattr(images, "MAX_BYTES", 5000)
    with pytest.raises(ImageTooLargeError):
        await _download(session, "big.png", f"{base}/big.png")
