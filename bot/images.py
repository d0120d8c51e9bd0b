"""Getting image bytes out of Discord: attachments and image embeds, refused early when they cannot be images.

Checks run cheapest first: the declared content type and size (no download), then the download (bounded in size
and in time), and the decoded header is checked by ``ml`` (the one image loader) when the engine reads the bytes.

Every way a download can fail on the network (refused, reset, stalled past the timeout, a body shorter than its
``Content-Length``, a CDN error) becomes one :class:`~bot.errors.DownloadFailedError`: "try again", not a bug.
"""

from __future__ import annotations

import asyncio
import mimetypes
from dataclasses import dataclass

import aiohttp
import discord

from bot.errors import DownloadFailedError, NoImageError, NotAnImageError
from core.errors import BadImageError, ImageTooLargeError
from core.i18n import Msg
from ml.preprocess import DEFAULT_LIMITS

MAX_BYTES = DEFAULT_LIMITS.max_bytes
# What Pillow (and so the engine) reads; SVG and HEIC are images to Discord but not to us.
IMAGE_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif", "image/bmp", "image/tiff"}
CHUNK = 64 * 1024


@dataclass(frozen=True)
class ImageSource:
    """An image to fetch: an attachment (read through discord.py) or a URL from an embed."""

    name: str
    content_type: str | None
    size: int | None
    attachment: discord.Attachment | None = None
    url: str | None = None
    link: bool = False  # ``url`` is a user's link: fetched through bot.fetch, guarded, not from Discord's CDN


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
        if kind is None:
            raise NotAnImageError(
                Msg("“{name}” is of an unknown type, not an image. Send a PNG, JPEG, WebP or GIF.", name=name)
            )
        raise NotAnImageError(
            Msg("“{name}” is {type}, not an image. Send a PNG, JPEG, WebP or GIF.", name=name, type=kind)
        )
    if size is not None and size > MAX_BYTES:
        raise ImageTooLargeError(
            Msg("“{name}” is {size}; the limit is {limit}", name=name, size=_mb(size), limit=_mb(MAX_BYTES))
        )
    if size == 0:
        raise BadImageError(Msg("“{name}” is empty", name=name))


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


MAX_CHOICES = 10  # a message holds at most 10 attachments; more embeds than that are not worth a longer list


def find_images(message: discord.Message) -> list[ImageSource]:
    """The images of a message, attachments first, then image embeds (at most :data:`MAX_CHOICES`), not yet checked
    for size (:func:`check_source` does, once one is chosen). Raises :class:`NoImageError` if there is none."""
    found = [
        ImageSource(a.filename, a.content_type, a.size, attachment=a)
        for a in message.attachments
        if is_image_attachment(a)
    ]
    seen = set()
    for embed in message.embeds:
        url = _embed_image_url(embed)
        if url and url.startswith(("http://", "https://")) and url not in seen:
            seen.add(url)
            found.append(ImageSource(url.split("?")[0].rsplit("/", 1)[-1] or "image", None, None, url=url))
    if found:
        return found[:MAX_CHOICES]
    if message.attachments:  # attachments, but none of them an image: say what is wrong with the first
        check_attachment(message.attachments[0])
    raise NoImageError(
        Msg("🖼️ That message has no image attachment or image embed. Try it on a message with a picture.")
    )


def check_source(source: ImageSource) -> ImageSource:
    """Refuse a found image by its declared type and size (attachments; an embed's are known only on download)."""
    if source.attachment is not None:
        return check_attachment(source.attachment)
    return source


def find_image(message: discord.Message) -> ImageSource:
    """The first image of a message: an image attachment, else an image embed. Raises :class:`NoImageError`."""
    return check_source(find_images(message)[0])


async def download(source: ImageSource, session: aiohttp.ClientSession, *, timeout: float) -> bytes:
    """The bytes of ``source``, never more than :data:`MAX_BYTES` (checked on the declared headers, then while
    reading), within ``timeout`` seconds from the request to the last byte (``TOONMATCH_DOWNLOAD_TIMEOUT``).

    Attachments and embed images are fetched alike, from their (signed) CDN URL. A file that is gone (404/403) is
    the user's problem (:class:`BadImageError`); anything on the way is :class:`DownloadFailedError`.
    """
    url = source.attachment.url if source.attachment is not None else source.url
    assert url is not None
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(source, url, session)
    except TimeoutError:
        raise DownloadFailedError(f"no complete answer within {timeout:g} s") from None
    except (aiohttp.ClientError, OSError) as exc:
        reason = " ".join(str(exc).split()) or "no details"
        raise DownloadFailedError(f"{type(exc).__name__}: {reason}") from None


async def _fetch(source: ImageSource, url: str, session: aiohttp.ClientSession) -> bytes:
    async with session.get(url) as resp:
        if resp.status >= 500 or resp.status == 429:
            raise DownloadFailedError(f"HTTP {resp.status} from the CDN")
        if resp.status in (403, 404, 410) and source.attachment is not None:
            raise BadImageError(Msg("the attachment is gone (deleted, or its link expired)"))
        if resp.status != 200:
            raise BadImageError(Msg("I couldn't download the image (HTTP {status})", status=resp.status))
        # An attachment's type was declared by Discord and checked before; a CDN may still call it octet-stream.
        declared = source.content_type if source.attachment is not None else resp.headers.get("Content-Type")
        check_declared(source.name, declared, resp.content_length, require_type=False)
        return await read_capped(resp, source.name, MAX_BYTES)


async def read_capped(resp: aiohttp.ClientResponse, name: str, max_bytes: int) -> bytes:
    """A response's body, streamed and refused as soon as it passes ``max_bytes`` (a declared length may lie)."""
    chunks, total = [], 0
    async for chunk in resp.content.iter_chunked(CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise ImageTooLargeError(Msg("“{name}” is over {limit}, the limit", name=name, limit=_mb(max_bytes)))
        chunks.append(chunk)
    return b"".join(chunks)
