"""Getting image bytes out of Discord: attachments and image embeds, refused early when they cannot be images.

Checks run cheapest first: the declared content type and size (no download), then the download (bounded), and the
decoded header is checked by ``ml`` (the one image loader) when the engine reads the bytes.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

import aiohttp
import discord

from bot.errors import NoImageError, NotAnImageError
from core.errors import BadImageError, ImageTooLargeError
from ml.preprocess import DEFAULT_LIMITS

MAX_BYTES = DEFAULT_LIMITS.max_bytes
# What Pillow (and so the engine) reads; SVG and HEIC are images to Discord but not to us.
IMAGE_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif", "image/bmp", "image/tiff"}
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=20, sock_connect=5)


@dataclass(frozen=True)
class ImageSource:
    """An image to fetch: an attachment (read through discord.py) or a URL from an embed."""

    name: str
    content_type: str | None
    size: int | None
    attachment: discord.Attachment | None = None
    url: str | None = None


def _type_of(content_type: str | None, filename: str) -> str | None:
    if content_type:
        return content_type.split(";")[0].strip().lower()
    guessed, _ = mimetypes.guess_type(filename)
    return guessed


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def check_declared(name: str, content_type: str | None, size: int | None, *, require_type: bool = True) -> None:
    """Refuse by declared type and size, before any download (an undeclared type of a download is left to the
    decoder when ``require_type`` is false)."""
    kind = _type_of(content_type, name)
    if kind not in IMAGE_TYPES and (require_type or kind is not None):
        shown = kind or "an unknown type"
        raise NotAnImageError(f"“{name}” is {shown}, not an image. Send a PNG, JPEG, WebP or GIF.")
    if size is not None and size > MAX_BYTES:
        raise ImageTooLargeError(f"“{name}” is {_mb(size)}; the limit is {_mb(MAX_BYTES)}")
    if size == 0:
        raise BadImageError(f"“{name}” is empty")


def check_attachment(attachment: discord.Attachment) -> ImageSource:
    check_declared(attachment.filename, attachment.content_type, attachment.size)
    return ImageSource(attachment.filename, attachment.content_type, attachment.size, attachment=attachment)


def is_image_attachment(attachment: discord.Attachment) -> bool:
    return _type_of(attachment.content_type, attachment.filename) in IMAGE_TYPES


def _embed_image_url(embed: discord.Embed) -> str | None:
    for media in (embed.image, embed.thumbnail):
        url = media.proxy_url or media.url
        if url:
            return url
    if embed.type in ("image", "gifv") and embed.url:
        return embed.url
    return None


def find_image(message: discord.Message) -> ImageSource:
    """The first image of a message: an image attachment, else an image embed. Raises :class:`NoImageError`."""
    for attachment in message.attachments:
        if is_image_attachment(attachment):
            return check_attachment(attachment)
    for embed in message.embeds:
        url = _embed_image_url(embed)
        if url and url.startswith(("http://", "https://")):
            name = url.split("?")[0].rsplit("/", 1)[-1] or "image"
            return ImageSource(name, None, None, url=url)
    if message.attachments:  # attachments, but none of them an image: say what is wrong with the first
        check_attachment(message.attachments[0])
    raise NoImageError("🖼️ That message has no image attachment or image embed. Try it on a message with a picture.")


async def download(source: ImageSource, session: aiohttp.ClientSession) -> bytes:
    """The bytes of ``source``, never more than :data:`MAX_BYTES` (checked on the declared headers, then while
    reading)."""
    if source.attachment is not None:
        try:
            return await source.attachment.read()
        except discord.NotFound:
            raise BadImageError("the attachment is gone (deleted?)") from None
        except discord.HTTPException as exc:
            raise BadImageError(f"I couldn't download the attachment (HTTP {exc.status})") from None
    assert source.url is not None
    try:
        async with session.get(source.url, timeout=DOWNLOAD_TIMEOUT) as resp:
            if resp.status != 200:
                raise BadImageError(f"I couldn't download the image (HTTP {resp.status})")
            check_declared(source.name, resp.headers.get("Content-Type"), resp.content_length, require_type=False)
            chunks, total = [], 0
            async for chunk in resp.content.iter_chunked(64 * 1024):
                total += len(chunk)
                if total > MAX_BYTES:
                    raise ImageTooLargeError(f"“{source.name}” is over {_mb(MAX_BYTES)}, the limit")
                chunks.append(chunk)
            return b"".join(chunks)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise BadImageError(f"I couldn't download the image ({type(exc).__name__})") from None
