"""Discovery channels: a few lesser-known titles that fit the server's taste, posted every N hours.

``/discovery set channel every`` · ``/discovery off`` · ``/discovery now`` (Manage Server). The schedule lives in the
database (``next_post_at``), so it survives restarts; a ``tasks.loop`` posts for every guild that is due. Before
posting the bot checks its permissions in the channel; a deleted or forbidden channel turns discovery off for that
guild with a reason shown to whoever runs ``/discovery`` next. This cog does the Discord side only: what to post and
the bookkeeping are :class:`~bot.exts.discovery.service.DiscoveryService`'s.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot import checks, embeds, errors
from bot.bot import Toonmatch
from bot.exts.discovery.service import DiscoveryService
from bot.i18n import ENGLISH, N_, language_name, perm_names, tr_for, tr_for_guild
from bot.metrics import is_database_error
from bot.views.rating import rating_rows
from core.i18n import Msg, available_locales
from db import GuildPrefs, queries
from db.models import DISCOVERY_EVERY_HOURS

log = logging.getLogger(__name__)

NEEDED = ("view_channel", "send_messages", "embed_links")


@dataclass
class Outcome:
    """What a discovery attempt did: posted (titles), nothing new to post, or disabled (reason)."""

    posted: list[str] = field(default_factory=list)
    disabled: str | None = None
    channel: discord.abc.GuildChannel | None = None
    skipped: str | None = None

    @property
    def kind(self) -> str:
        """For the metrics: posted, disabled, skipped or nothing_new."""
        if self.posted:
            return "posted"
        return "disabled" if self.disabled else "skipped" if self.skipped else "nothing_new"


manage_guild = discord.Permissions(manage_guild=True)

SERVER_LANGUAGE = "server"  # /discovery set language: the server's own Discord language (nothing stored)
#: The languages a server can choose for its posts: English and every language with a catalogue (core/locales),
#: each named in itself ("한국어"), as language pickers do.
LANGUAGE_CHOICES = [
    app_commands.Choice(name=N_("The server's language"), value=SERVER_LANGUAGE),
    *(app_commands.Choice(name=language_name(code), value=code) for code in available_locales()),
]


class Discovery(commands.Cog):
    group = app_commands.Group(
        name=N_("discovery"),
        description=N_("Regular posts of lesser-known webtoons that fit this server's taste"),
        guild_only=True,
        default_permissions=manage_guild,
    )

    def __init__(self, bot: Toonmatch) -> None:
        self.bot = bot
        self.service = DiscoveryService(
            bot.db, bot.recommender, picks=bot.options.discovery_picks, shards=bot.shard_filter
        )
        self._locks: dict[int, asyncio.Lock] = {}

    async def cog_load(self) -> None:
        if self.bot.options.start_discovery_loop:
            self.ticker.change_interval(seconds=self.bot.options.discovery_tick)
            self.ticker.start()

    async def cog_unload(self) -> None:
        self.ticker.cancel()

    # ---- commands -----------------------------------------------------------------------------------------
    @group.command(name=N_("set"), description=N_("Post lesser-known titles to a channel every few hours"))
    @app_commands.rename(channel=N_("channel"), every=N_("every"), language=N_("language"))
    @app_commands.describe(
        channel=N_("Where to post"),
        every=N_("Hours between posts (1–168)"),
        language=N_("The posts' language (default: the server's Discord language)"),
    )
    @app_commands.choices(language=LANGUAGE_CHOICES)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def set_(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        every: app_commands.Range[int, 1, 168] = DISCOVERY_EVERY_HOURS,
        language: str | None = None,
    ) -> None:
        assert interaction.guild is not None
        tr = tr_for(interaction)
        missing = self.missing_permissions(channel)
        if missing:
            raise errors.BotUserError(
                Msg(
                    "🔒 I can't post in {channel}: I'm missing **{permissions}** there. "
                    "Give me those permissions (or pick another channel) and try again.",
                    channel=channel.mention,
                    permissions=perm_names(missing, tr),
                )
            )
        previous = await self._prefs(interaction)
        first = datetime.now(UTC) + timedelta(hours=every)
        prefs = await self.bot.change_guild_prefs(queries.set_discovery, interaction.guild.id, channel.id, every, first)
        if language is not None:
            prefs = await self.bot.change_guild_prefs(
                queries.set_guild_locale, interaction.guild.id, None if language == SERVER_LANGUAGE else language
            )
        log.info(
            "interaction %s: discovery in guild %s set to channel %s every %d h (language %s)",
            interaction.id,
            interaction.guild.id,
            channel.id,
            every,
            prefs.locale or "of the server",
        )
        text = "✅ " + embeds.discovery_status(prefs, channel.mention, tr=tr)
        text += " " + tr._("Use `/{discovery} {now}` to post one now.", discovery=tr._("discovery"), now=tr._("now"))
        posts = tr_for_guild(prefs.locale, interaction.guild)
        text += "\n" + tr._("Posts are written in {language}.", language=language_name(posts.locale))
        if previous.discovery_disabled_reason:
            text += "\n" + tr._(
                "(It had been turned off: {reason}.)",
                reason=embeds.disabled_reason(previous.discovery_disabled_reason, tr),
            )
        if channel.is_nsfw():
            allowed = (await self.bot.guild_prefs(interaction.guild.id)).adult_allowed
            text += "\n" + (
                tr._("This channel is age-restricted: adult titles may be posted there.")
                if allowed
                else tr._("This channel is age-restricted: adult titles are still off (`/settings adult`).")
            )
        await errors.send_final(interaction, text, ephemeral=True)

    @group.command(name=N_("off"), description=N_("Stop discovery posts in this server"))
    @app_commands.checks.has_permissions(manage_guild=True)
    async def off(self, interaction: discord.Interaction) -> None:
        tr = tr_for(interaction)
        current = await self._prefs(interaction)
        if current.discovery_channel_id is None:
            await errors.send_final(interaction, tr._("Discovery posts are already off."), ephemeral=True)
            return
        await self.bot.change_guild_prefs(
            queries.set_discovery, current.guild_id, None, current.discovery_every_hours, None
        )
        log.info("interaction %s: discovery in guild %s turned off", interaction.id, current.guild_id)
        text = tr._("🛑 Discovery posts are off.")
        if current.discovery_disabled_reason:
            text += " " + tr._(
                "(They had already stopped: {reason}.)",
                reason=embeds.disabled_reason(current.discovery_disabled_reason, tr),
            )
        await errors.send_final(interaction, text, ephemeral=True)

    @group.command(name=N_("now"), description=N_("Post a discovery message right away"))
    @app_commands.checks.has_permissions(manage_guild=True)
    async def now(self, interaction: discord.Interaction) -> None:
        tr = tr_for(interaction)
        prefs = await self._prefs(interaction)
        if not prefs.discovery_enabled:
            await errors.send_final(interaction, embeds.discovery_status(prefs, None, tr=tr), ephemeral=True)
            return
        self.bot.require_recommender()
        await checks.defer(interaction, private=True)
        outcome = await self.post(prefs)
        if outcome.disabled:
            text = tr._(
                "⚠️ I couldn't post, so discovery is now off: {reason}. Fix it and run `/discovery set`.",
                reason=embeds.disabled_reason(outcome.disabled, tr),
            )
        elif outcome.posted:
            where = outcome.channel.mention if outcome.channel else tr._("the discovery channel")
            text = tr.ngettext(
                "✅ Posted {n} title in {where}.", "✅ Posted {n} titles in {where}.", len(outcome.posted), where=where
            )
        else:
            text = tr._("Nothing new to post: every title that fits has already been posted here.")
        await errors.send_final(interaction, text, ephemeral=True)

    @group.command(name=N_("status"), description=N_("Where and when discovery posts go, and how many titles"))
    @app_commands.checks.has_permissions(manage_guild=True)
    async def status(self, interaction: discord.Interaction) -> None:
        prefs = await self._prefs(interaction)
        last = await self.bot.db.run(queries.last_discovery_post, prefs.guild_id)
        channel = interaction.guild.get_channel(prefs.discovery_channel_id) if prefs.discovery_channel_id else None
        embed = embeds.discovery_report(
            prefs,
            channel.mention if channel is not None else None,
            last_post=last,
            picks=prefs.discovery_picks or self.service.picks,
            default_picks=prefs.discovery_picks is None,
            tr=tr_for(interaction),
        )
        await errors.send_final(interaction, embed=embed, ephemeral=True)

    async def _prefs(self, interaction: discord.Interaction) -> GuildPrefs:
        """The preferences of the server the command was run in (the group is guild-only)."""
        assert interaction.guild is not None
        return await self.bot.db.run(queries.get_guild_prefs, interaction.guild.id)

    # ---- posting ------------------------------------------------------------------------------------------
    def missing_permissions(self, channel: discord.abc.GuildChannel) -> list[str]:
        perms = channel.permissions_for(channel.guild.me)
        return [name for name in NEEDED if not getattr(perms, name)]

    def _lock(self, guild_id: int) -> asyncio.Lock:
        return self._locks.setdefault(guild_id, asyncio.Lock())

    async def disable(self, guild_id: int, reason: str) -> Outcome:
        await self.service.disable(guild_id, reason)
        self.bot.prefs_cache.invalidate(guild_id)
        return Outcome(disabled=reason)

    async def post(self, prefs: GuildPrefs) -> Outcome:
        """Post once for the guild (if the channel is usable) and schedule the next post."""
        async with self._lock(prefs.guild_id):
            try:
                outcome = await self._post(prefs)
            except Exception as exc:
                self.bot.metrics.discovery("error")
                if is_database_error(exc):
                    self.bot.metrics.database_error("discovery")
                raise
        self.bot.metrics.discovery(outcome.kind)
        return outcome

    async def _post(self, prefs: GuildPrefs) -> Outcome:
        """The Discord side of a post: the channel and its permissions, then the message; the picks and the
        bookkeeping are the service's."""
        gid, cid = prefs.guild_id, prefs.discovery_channel_id
        assert cid is not None
        guild = self.bot.get_guild(gid)
        if guild is None:  # not (or no longer) in that server; the next tick may know better
            await self.service.postpone(prefs)
            return Outcome(skipped="not in that server")
        channel = guild.get_channel(cid)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(cid)
            except discord.NotFound:
                return await self.disable(gid, embeds.REASON_CHANNEL_DELETED)
            except discord.Forbidden:
                return await self.disable(gid, embeds.REASON_CHANNEL_HIDDEN)
        if not isinstance(channel, discord.TextChannel):
            return await self.disable(gid, embeds.REASON_NOT_TEXT)
        missing = self.missing_permissions(channel)
        if missing:
            return await self.disable(
                gid, embeds.REASON_MISSING.format(permissions=perm_names(missing, ENGLISH), channel=channel.name)
            )
        post = await self.service.choose(
            gid,
            allow_adult=channel.is_nsfw() and prefs.adult_allowed,  # bot.prefs: 18+ channel and the server allows
            covers=channel.permissions_for(guild.me).attach_files,
            picks=prefs.discovery_picks,
        )
        if not post.picks:
            await self.service.postpone(prefs)
            log.info("discovery in guild %s: nothing new to post", gid)
            return Outcome(channel=channel)

        files, thumbs = [], {}
        for n, r in enumerate(post.picks, start=1):
            if r.title.id in post.covers:
                thumbs[r.title.id] = f"cover-{n}.webp"
                files.append(discord.File(io.BytesIO(post.covers[r.title.id]), thumbs[r.title.id]))
        tr = tr_for_guild(prefs.locale, guild)
        try:
            message = await channel.send(
                embeds.discovery_header(tr),
                embeds=embeds.discovery(post.picks, thumbs, synthetic=post.synthetic, tr=tr),
                files=files,
                view=rating_rows(post.picks, tr=tr),
            )
        except discord.NotFound:
            return await self.disable(gid, embeds.REASON_CHANNEL_DELETED)
        except discord.Forbidden:
            return await self.disable(gid, embeds.REASON_FORBIDDEN.format(channel=channel.name))
        await self.service.posted(post, prefs, channel.id, message.id)
        titles = [r.title.id for r in post.picks]
        log.info("discovery in guild %s: posted %s in channel %s", gid, titles, channel.id)
        return Outcome(posted=titles, channel=channel)

    async def post_due(self, now: datetime | None = None) -> list[Outcome]:
        """Post for every guild of this process's shards whose next post is due (the loop's body; tests call it
        directly). Each post is claimed in the database first, so that it is made once even if another process
        sees the guild too (overlapping shard ranges during a deploy)."""
        if not self.service.ready:  # nothing to pick from; the posts wait until the recommender is back
            return []
        now = now or datetime.now(UTC)
        due = await self.service.due(now)
        log.debug("discovery tick: %d guild(s) due", len(due))
        outcomes = []
        for seen in due:
            prefs = await self.service.claim(seen, now)
            if prefs is None:
                log.info("discovery in guild %s: already claimed elsewhere", seen.guild_id)
                continue
            try:
                outcomes.append(await self.post(prefs))
            except Exception:  # one guild's failure must not stop the others, nor the loop
                log.exception("discovery post for guild %s failed", prefs.guild_id)
                await self.service.postpone(prefs)
        return outcomes

    @tasks.loop(seconds=60)
    async def ticker(self) -> None:
        try:
            await self.post_due()
        except Exception:
            log.exception("discovery loop iteration failed")

    @ticker.before_loop
    async def _before_ticker(self) -> None:
        await self.bot.wait_until_ready()

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server: drop its preferences, discovery log and memberships (users' ratings stay)."""
        deleted = await self.bot.db.run(queries.forget_guild, guild.id)
        self.bot.prefs_cache.invalidate(guild.id)
        log.info("removed from guild %s: %d rows of its data deleted", guild.id, deleted)
