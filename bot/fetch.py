"""Fetching an image from a user's link (/similar link:, /genre link:) without letting the bot be pointed inward.

A link may only reach public addresses: the host is resolved once by :class:`GuardedResolver`, every address is
checked, and aiohttp connects to exactly those addresses (no second lookup that DNS rebinding could change). An IP
literal skips aiohttp's resolver, so :func:`fetch_link` checks it itself. Redirects are followed by hand (at most
:data:`MAX_REDIRECTS`), each hop checked again. The body is read under the attachments' byte cap and timeout; the
pixel limits are the decoder's (``ml``), as for attachments.

Every refusal is a :class:`~bot.errors.LinkRefusedError` with a message fit for the user.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import discord
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot import images
from bot.errors import BotUserError, DownloadFailedError, LinkRefusedError
from core.i18n import Msg

MAX_REDIRECTS = 3
SCHEMES = ("http", "https")
REDIRECTS = (301, 302, 303, 307, 308)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is a public unicast address (IPv4-mapped IPv6 judged by its IPv4 address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def check_address(host: str, address: str, *, allow_private: bool) -> None:
    """Refuse ``address`` (what ``host`` resolved to) unless it is public, or ``allow_private`` is set."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id ("fe80::1%eth0") is not part of it
    except ValueError:
        raise LinkRefusedError(
            Msg("🔗 I can't fetch from {host}: it resolved to something that is not an address", host=host)
        ) from None
    if not allow_private and not is_public(ip):
        raise LinkRefusedError(
            Msg("🔗 I only fetch links to public internet addresses, and {host} is not one.", host=host)
        )


class GuardedResolver(AbstractResolver):
    """Resolves with ``base`` and refuses the host if any of its addresses is not public."""

    def __init__(self, base: AbstractResolver | None = None, *, allow_private: bool = False) -> None:
        self.base = base if base is not None else DefaultResolver()
        self.allow_private = allow_private

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        results: list[ResolveResult] = await self.base.resolve(host, port, family)
        if not results:
            raise LinkRefusedError(Msg("🔗 I couldn't find the site {host}.", host=host))
        for result in results:
            check_address(host, result["host"], allow_private=self.allow_private)
        return results

    async def close(self) -> None:
        await self.base.close()


def check_url(url: str, *, allow_private: bool) -> str:
    """The host of ``url`` after checking its scheme (and, for an IP literal, its address)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        raise LinkRefusedError(Msg("🔗 That is not a valid link.")) from None
    if parts.scheme.lower() not in SCHEMES:
        raise LinkRefusedError(Msg("🔗 Only http:// and https:// links work."))
    if not host:
        raise LinkRefusedError(Msg("🔗 That link has no host name."))
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host  # a name: GuardedResolver checks what it resolves to
    check_address(host, host, allow_private=allow_private)
    return host


def _name_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1] or "image"


def source_of(image: discord.Attachment | None, link: str | None) -> images.ImageSource:
    """What a command with an ``image`` and a ``link`` option answers: exactly one of the two, checked as far as
    can be without the network (the attachment's declared type and size, the link's scheme)."""
    link = (link or "").strip() or None
    if (image is None) == (link is None):
        if link:
            raise BotUserError(Msg("🖼️ You gave both an image and a link: attach an image *or* paste a link to one."))
        raise BotUserError(Msg("🖼️ You gave no image and no link: attach an image *or* paste a link to one."))
    if image is not None:
        return images.check_attachment(image)
    assert link is not None
    check_url(link, allow_private=True)  # the scheme now; the addresses when it is fetched
    return images.ImageSource(_name_of(link), None, None, url=link, link=True)


async def fetch_link(
    url: str,
    *,
    timeout: float,
    allow_private: bool = False,
    resolver: AbstractResolver | None = None,
    max_bytes: int = images.MAX_BYTES,
) -> bytes:
    """The image bytes behind ``url``, refused (:class:`LinkRefusedError`, or the attachments' image errors) when
    it leads anywhere but the public internet, redirects too often, is not an image or is too big. ``resolver`` is
    the DNS lookup to guard (tests stub it)."""
    guarded = GuardedResolver(resolver, allow_private=allow_private)
    connector = aiohttp.TCPConnector(resolver=guarded, use_dns_cache=False)
    try:
        async with aiohttp.ClientSession(connector=connector) as session, asyncio.timeout(timeout):
            return await _follow(session, url, allow_private=allow_private, max_bytes=max_bytes)
    except TimeoutError:
        raise DownloadFailedError(f"no complete answer within {timeout:g} s") from None
    except (aiohttp.ClientError, OSError) as exc:
        reason = " ".join(str(exc).split()) or "no details"
        raise DownloadFailedError(f"{type(exc).__name__}: {reason}") from None


async def _follow(session: aiohttp.ClientSession, url: str, *, allow_private: bool, max_bytes: int) -> bytes:
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, allow_private=allow_private)
        async with session.get(url, allow_redirects=False) as resp:
            if resp.status in REDIRECTS:
                location = resp.headers.get("Location")
                if not location:
                    raise LinkRefusedError(Msg("🔗 That link redirects nowhere (HTTP {status}).", status=resp.status))
                url = urljoin(url, location)
                continue
            return await _read(resp, _name_of(url), max_bytes)
    raise LinkRefusedError(Msg("🔗 That link redirects more than {n} times; link the image itself.", n=MAX_REDIRECTS))


async def _read(resp: aiohttp.ClientResponse, name: str, max_bytes: int) -> bytes:
    if resp.status != 200:
        raise LinkRefusedError(Msg("🔗 I couldn't fetch that link (HTTP {status}).", status=resp.status))
    images.check_declared(name, resp.headers.get("Content-Type"), resp.content_length, require_type=False)
    return await images.read_capped(resp, name, max_bytes)
