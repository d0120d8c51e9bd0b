"""Optional "looks like…" replies: images people post in a server's discovery channel get a short answer.

Only with ``TOONMATCH_MESSAGE_CONTENT=true`` (the privileged message content intent). A courtesy, not a command: it
shares the heavy commands' per-user cooldown and fails silently (one log line), never with a message in the channel.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot import checks, embeds, errors, images
from bot.bot import Toonmatch
from bot.i18n import tr_for_guild
from core.errors import BadImageError

log = logging.getLogger(__name__)


class LooksLike(commands.Cog):
    def __init__(self, bot: Toonmatch) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if not self.bot.settings.discord.message_content or message.guild is None or message.author.bot:
            return
        attachment = next((a for a in message.attachments if images.is_image_attachment(a)), None)
        if attachment is None or self.bot.recommender is None:
            return
        prefs = await self.bot.guild_prefs(message.guild.id)  # cached: this runs for every message with an image
        if not prefs.discovery_enabled or prefs.discovery_channel_id != message.channel.id:
            return
        if await checks.use_heavy_token(self.bot, message.author.id, message.created_at.timestamp()) is not None:
            return  # the same per-user cooldown as the heavy commands; silently, it is only a courtesy reply
        try:
            source = images.check_attachment(attachment)
            data = await self.bot.download(source)
            nsfw = checks.channel_is_nsfw(message.channel) and prefs.adult_allowed  # bot.prefs' rule
            answer, _ = await self.bot.recommender.similar(data, k=3, allow_adult=nsfw)
        except errors.DownloadFailedError as exc:  # only a courtesy reply: no message in the channel about it
            log.warning("looks-like reply skipped for message %s: %s (%s)", message.id, exc, exc.cause)
            return
        except BadImageError as exc:
            log.info("looks-like reply skipped for message %s: %s", message.id, exc)
            return
        try:
            tr = tr_for_guild(prefs.locale, message.guild)
            await message.reply(embeds.looks_like(answer.genres, answer.results, tr=tr), mention_author=False)
        except discord.HTTPException as exc:
            log.warning("looks-like reply in channel %s failed: %s", message.channel.id, exc)
