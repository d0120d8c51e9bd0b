"""Discovery, one extension: regular posts of lesser-known titles (:mod:`.cog`, the Discord side; :mod:`.service`,
what to post and the bookkeeping) and the optional "looks like…" replies in the discovery channel
(:mod:`.looks_like`)."""

from __future__ import annotations

from bot.bot import Toonmatch
from bot.exts.discovery.cog import Discovery
from bot.exts.discovery.looks_like import LooksLike


async def setup(bot: Toonmatch) -> None:
    await bot.add_cog(Discovery(bot))
    await bot.add_cog(LooksLike(bot))
