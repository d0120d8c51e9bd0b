"""The shared per-user cooldown of heavy commands and NSFW gating (spec'd mocks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest.mock import MagicMock

import discord
import pytest
from discord import app_commands

from bot import checks
from bot.bot import BotOptions, Toonmatch


def _interaction(client, user_id=1, at=None):
    interaction = MagicMock(spec=discord.Interaction)
    interaction.client = client
    interaction.user = MagicMock(spec=discord.User, id=user_id)
    interaction.created_at = at or datetime.now(UTC)
    return interaction


def _client(**options):
    client = MagicMock(spec=Toonmatch)
    client.options = BotOptions(**options)
    client.heavy_cooldowns = {}
    return client


async def test_cooldown_allows_rate_then_refuses_with_the_wait():
    client = _client(cooldown_uses=2, cooldown_seconds=30)
    now = datetime.now(UTC)
    assert await checks.heavy_cooldown_check(_interaction(client, at=now))
    assert await checks.heavy_cooldown_check(_interaction(client, at=now))
    with pytest.raises(app_commands.CommandOnCooldown) as info:
        await checks.heavy_cooldown_check(_interaction(client, at=now + timedelta(seconds=1)))
    assert 28 < info.value.retry_after <= 30
    assert await checks.heavy_cooldown_check(_interaction(client, user_id=2, at=now))  # per user


async def test_cooldown_off():
    client = _client(cooldown_seconds=0)
    for _ in range(10):
        assert await checks.heavy_cooldown_check(_interaction(client))
    assert client.heavy_cooldowns == {}


def test_nsfw_only_where_the_channel_says_so():
    nsfw = MagicMock(spec=discord.TextChannel)
    nsfw.is_nsfw.return_value = True
    assert checks.channel_is_nsfw(nsfw)
    assert not checks.channel_is_nsfw(MagicMock(spec=discord.DMChannel))
    assert not checks.channel_is_nsfw(None)


async def test_cooldown_forgets_users_once_their_window_has_passed():
    client = _client(cooldown_uses=2, cooldown_seconds=30)
    now = datetime.now(UTC)
    assert await checks.heavy_cooldown_check(_interaction(client, user_id=1, at=now))
    assert await checks.heavy_cooldown_check(_interaction(client, user_id=2, at=now + timedelta(seconds=20)))
    assert set(client.heavy_cooldowns) == {1, 2}
    assert await checks.heavy_cooldown_check(_interaction(client, user_id=3, at=now + timedelta(seconds=31)))
    assert set(client.heavy_cooldowns) == {2, 3}  # user 1's window is over: nothing left to remember
    for _ in range(2):  # user 1 starts afresh: two uses, then the wait
        assert await checks.heavy_cooldown_check(_interaction(client, user_id=1, at=now + timedelta(seconds=32)))
    with pytest.raises(app_commands.CommandOnCooldown):
        await checks.heavy_cooldown_check(_interaction(client, user_id=1, at=now + timedelta(seconds=33)))


def test_upload_screening_hides_explicit_images_only_where_others_see_them_unrestricted():
    from ml.serve.results import UploadScreen

    explicit = UploadScreen({"Drawing": 0.02, "Hentai": 0.5, "Neutral": 0.03, "Porn": 0.4, "Sexy": 0.05})  # 0.9
    mild = UploadScreen({"Drawing": 0.3, "Hentai": 0.1, "Neutral": 0.2, "Porn": 0.1, "Sexy": 0.3})  # 0.2
    text = MagicMock(spec=discord.TextChannel, type=discord.ChannelType.text)
    text.is_nsfw.return_value = False
    restricted = MagicMock(spec=discord.TextChannel, type=discord.ChannelType.text)
    restricted.is_nsfw.return_value = True
    dm = MagicMock(spec=discord.DMChannel, type=discord.ChannelType.private)

    def hide(screen, channel, private=False, threshold=0.9):
        return checks.hide_upload(screen, channel, private=private, threshold=threshold)

    assert explicit.explicit == pytest.approx(0.9) and hide(explicit, text)  # at the threshold: hidden
    assert not hide(explicit, text, threshold=0.95) and not hide(mild, text)
    assert hide(mild, text, threshold=0.2)
    assert not hide(explicit, restricted)  # age-restricted channels keep it
    assert not hide(explicit, dm) and checks.channel_is_dm(dm) and not checks.channel_is_dm(text)  # DMs keep it
    assert not hide(explicit, text, private=True)  # only the asker sees a private answer
    assert not hide(None, text, threshold=0.0)  # no nsfw output, no screening
