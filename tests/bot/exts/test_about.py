"""/about (owner only) and the public part of it in /help."""

from __future__ import annotations

import pytest

from core import version
from tests.helpers.fake_discord.server import CommandNotAvailable


def _fields(embed: dict) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed["fields"]}


async def test_the_owner_gets_version_run_index_uptime_servers_shards_and_answers(world, bot_engine):
    await world.run("help")  # two answers before
    await world.run("likes")
    rec = await world.fake.slash_command("about", dm=True, user=world.fake.app_owner)
    msg = await rec.wait_response()
    assert msg.ephemeral
    fields = _fields(msg.embeds[0])
    assert fields["Version"] == version.describe() and version.package_version() in fields["Version"]
    assert fields["Run"] == world.settings.serving.run_dir.name
    assert fields["Catalogue"] == f"{len(bot_engine.titles)} titles"
    assert fields["Index generation"] == bot_engine.index.generation
    assert fields["Servers"] == "1" and "up" in fields["Shards"]
    assert fields["Uptime"]
    answers = fields["Answers in the last 24 h"]
    assert answers.startswith("2 · p50 ") and "p99" in answers


async def test_anyone_else_is_refused_and_cannot_see_it_in_servers(world):
    with pytest.raises(CommandNotAvailable):  # default_member_permissions 0: administrators only
        await world.fake.slash_command("about", user=world.admin, guild=world.guild, channel=world.general)
    rec = await world.fake.slash_command(
        "about", user=world.alice, guild=world.guild, channel=world.general, enforce_permissions=False
    )
    msg = await rec.wait_response()
    assert msg.ephemeral and "only for the bot's owner" in msg.content and not msg.embeds
    dm = await world.fake.slash_command("about", dm=True, user=world.bob)  # visible in DMs, refused all the same
    assert "only for the bot's owner" in (await dm.wait_response()).content


async def test_help_shows_version_catalogue_size_and_privacy(world, bot_engine):
    msg = (await world.run("help")).original
    about = _fields(msg.embeds[0])["About"]
    assert f"Version `{version.describe()}`" in about and f"{len(bot_engine.titles)} titles" in about
    assert "/forget-me" in about


def test_the_git_revision_is_this_checkout():
    import subprocess

    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=version.ROOT).stdout
    assert version.git_revision() is not None and head.startswith(version.git_revision().split("+")[0])
