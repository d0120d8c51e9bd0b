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
    client = _client(cooldown_rate=2, cooldown_per=30)
    now = datetime.now(UTC)
    assert await checks.heavy_cooldown_check(_interaction(client, at=now))
    assert await checks.heavy_cooldown_check(_interaction(client, at=now))
    with pytest.raises(app_commands.CommandOnCooldown) as info:
        await checks.heavy_cooldown_check(_interaction(client, at=now + timedelta(seconds=1)))
    assert 28 < info.value.retry_after <= 30
    assert await checks.heavy_cooldown_check(_interaction(client, user_id=2, at=now))  # per user


async def test_cooldown_off():
    client = _client(cooldown_per=0)
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
    client = _client(cooldown_rate=2, cooldown_per=30)
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
