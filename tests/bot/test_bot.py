"""The bot as a whole: its command set, syncing only on change, persistent buttons across restarts, paging, the one
error handler (engine missing, bugs, cooldowns)."""

from __future__ import annotations

import asyncio
import logging

import discord
import pytest

from db import queries
from tests.bot.conftest import build_world, custom_ids, make_settings, select_options

SLASH, MESSAGE_MENU = 1, 3
MANAGE_GUILD = str(1 << 5)


def _puts(fake):
    return fake.find_requests("PUT", r"^/applications/\d+/commands$")


async def test_registers_exactly_the_documented_commands(world):
    fake = world.fake
    slash = {c["name"]: c for c in fake.registered_commands if c.get("type", 1) == SLASH}
    assert set(slash) == {
        "similar",
        "genre",
        "recommend",
        "discovery",
        "likes",
        "forget-me",
        "help",
        "settings",
        "about",
    }
    menus = {c["name"] for c in fake.registered_commands if c.get("type") == MESSAGE_MENU}
    assert menus == {"Find similar webtoons", "Guess genre"}
    for name in ("similar", "genre"):
        opts = {o["name"]: o for o in slash[name]["options"]}
        assert opts["image"]["type"] == 11 and not opts["image"].get("required")  # an attachment, or:
        assert opts["link"]["type"] == 3 and not opts["link"].get("required")
        assert opts["private"]["type"] == 5 and not opts["private"].get("required")
    recommend = {o["name"]: o for o in slash["recommend"]["options"]}
    assert recommend["title"]["autocomplete"] and recommend["title"]["required"]
    assert recommend["private"]["type"] == 5 and not recommend["private"].get("required")
    discovery = slash["discovery"]
    assert discovery["default_member_permissions"] == MANAGE_GUILD
    subs = {o["name"]: o for o in discovery["options"]}
    assert set(subs) == {"set", "off", "now", "status"}
    every = next(o for o in subs["set"]["options"] if o["name"] == "every")
    assert (every["min_value"], every["max_value"]) == (1, 168)
    assert [o["name"] for o in subs["set"]["options"]] == ["channel", "every", "language"]
    language = subs["set"]["options"][2]
    assert not language.get("required") and {c["value"] for c in language["choices"]} == {"server", "en", "ko"}


async def test_commands_sync_on_first_start_and_not_again_until_they_change(world):
    assert len(_puts(world.fake)) == 1 and world.bot.synced
    first_db, first_recommender = world.db, world.recommender
    await world.restart()
    assert len(_puts(world.fake)) == 1 and not world.bot.synced  # unchanged: no sync on every start
    assert world.bot.db is world.db is not first_db  # the hash was read back through a reopened database
    assert world.bot.recommender is world.recommender is not first_recommender
    key = f"app_commands_hash:{world.bot.application_id}"
    await world.db.run(queries.set_meta, key, "definitions of an older version")
    await world.restart()
    assert len(_puts(world.fake)) == 2 and world.bot.synced


async def test_rating_buttons_and_paging_keep_working_after_a_restart(world, sample_images):
    rec = await world.run("similar", {"image": world.attach("png", sample_images)})
    msg = rec.original
    options = [o["value"] for o in select_options(msg)]
    first_page = msg.embeds[0]["fields"][0]["value"]
    await world.restart()
    second_page = await world.fake.click("tm:page:next:1", message=msg, user=world.alice)
    await second_page.wait_response()
    assert second_page.callback_type == 7  # redrawn in place: the list, not only the buttons
    [field] = msg.embeds[0]["fields"]
    assert field["name"] == "Closest styles · 6–10 of 24" and field["value"] != first_page
    assert [line[:4] for line in field["value"].splitlines()] == [f"`{n:>2}`" for n in range(6, 11)]
    assert msg.embeds[0]["description"] == rec.original.embeds[0]["description"]  # the genre line stays
    assert msg.embeds[0]["image"]["url"].startswith("http") and msg.filenames[0].startswith("toonmatch.")
    ups = custom_ids(msg, "tm:rate:up:")
    assert ups == [f"tm:rate:up:{t}" for t in options[5:10]]
    assert "tm:pos:1" in msg.custom_ids() and "tm:page:prev:0" in msg.custom_ids()
    like = await world.fake.click(ups[0], message=msg, user=world.alice)
    assert "you like" in (await like.wait_response()).content
    assert await world.db.run(queries.get_rating, world.alice.id, options[5]) == 1
    # last page: 4 results and no "next"
    for page in (2, 3, 4):
        click = await world.fake.click(f"tm:page:next:{page}", message=msg, user=world.alice)
        await click.wait_response()
    assert len(custom_ids(msg, "tm:rate:up:")) == 4
    assert msg.find_component("tm:page:next:4")["disabled"]
    assert msg.embeds[0]["fields"][0]["name"] == "Closest styles · 21–24 of 24"


async def test_only_the_asker_pages_picks_rates_or_deletes_an_answer(world, sample_images):
    rec = await world.run("similar", {"image": world.attach("png", sample_images)})
    msg = rec.original
    before = (msg.embeds[0], msg.custom_ids())
    chosen = select_options(msg)[0]["value"]
    pick_id = next(c for c in msg.custom_ids() if c.startswith("tm:pick"))
    clicks = [
        await world.fake.click("tm:page:next:1", message=msg, user=world.bob),
        await world.fake.select(pick_id, [chosen], message=msg, user=world.bob),
        await world.fake.click(f"tm:rate:up:{chosen}", message=msg, user=world.bob),
        await world.fake.click("tm:del", message=msg, user=world.bob),
    ]
    for click in clicks:
        hint = await click.wait_response()
        assert hint.ephemeral and f"<@{world.alice.id}>" in hint.content
    assert "/similar" in (await clicks[0].wait_response()).content  # says how to get an answer of one's own
    assert (msg.embeds[0], msg.custom_ids()) == before and not msg.deleted  # the answer is unchanged
    assert await world.db.run(queries.get_rating, world.bob.id, chosen) == 0
    delete = await world.fake.click("tm:del", message=msg, user=world.alice)
    await delete.wait_acknowledged()
    for _ in range(200):
        if msg.deleted:
            break
        await asyncio.sleep(0.02)
    assert msg.deleted


async def test_a_moderator_can_delete_anyones_answer(world, sample_images):
    mod = world.fake.add_member(world.guild, "mod", permissions=discord.Permissions(manage_messages=True))
    rec = await world.run("similar", {"image": world.attach("png", sample_images)})
    delete = await world.fake.click("tm:del", message=rec.original, user=mod)
    await delete.wait_acknowledged()
    for _ in range(200):
        if rec.original.deleted:
            break
        await asyncio.sleep(0.02)
    assert rec.original.deleted


async def test_pick_select_opens_a_title_card_that_rates_and_shows_state(world, sample_images):
    rec = await world.run("similar", {"image": world.attach("png", sample_images)}, user=world.bob)
    chosen = select_options(rec.original)[2]["value"]
    pick = await world.fake.select(f"tm:pick:{world.bob.id}", [chosen], message=rec.original, user=world.bob)
    card = await pick.wait_response()
    assert card.ephemeral and "Not rated yet" in card.embeds[0]["footer"]["text"]
    assert card.filenames == ["cover.webp"]
    like = await world.fake.click(f"tm:ratec:up:{chosen}", message=card, user=world.bob)
    await like.wait_response()
    assert like.callback_type == 7 and "You like this" in card.embeds[0]["footer"]["text"]
    assert card.find_component(f"tm:ratec:up:{chosen}")["style"] == 3  # highlighted
    unlike = await world.fake.click(f"tm:ratec:up:{chosen}", message=card, user=world.bob)
    await unlike.wait_response()
    assert await world.db.run(queries.get_rating, world.bob.id, chosen) == 0


async def test_without_engine_image_commands_explain_and_help_still_works(fake, db, tiny_run, sample_images):
    world = await build_world(fake, db, None, make_settings(fake.token, tiny_run))
    try:
        rec = await world.run("similar", {"image": world.attach("png", sample_images)})
        assert rec.original.ephemeral and "engine isn't loaded" in rec.original.content
        assert "TOONMATCH_RUN_DIR" in rec.original.content
        auto = await world.fake.autocomplete("recommend", "title", "abc", user=world.alice)
        assert await auto.wait_choices() == []
        help_ = await world.run("help")
        assert help_.original.ephemeral and "not loaded" in help_.original.embeds[0]["fields"][2]["value"]
    finally:
        await world.close()


@pytest.mark.bot_errors_expected
async def test_a_bug_becomes_a_short_ephemeral_message_and_an_error_log(world, sample_images, monkeypatch, caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("kaboom in the engine")

    monkeypatch.setattr(world.recommender, "similar", broken)
    caplog.set_level(logging.INFO)
    rec = await world.run("similar", {"image": world.attach("png", sample_images)})
    await rec.wait_followups(1)
    refusal = rec.followups[-1]
    assert rec.original.deleted and refusal.ephemeral
    assert str(rec.id) in refusal.content and "kaboom" not in refusal.content and "Traceback" not in refusal.content
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "bot.errors"]
    assert len(errors) == 1 and str(rec.id) in errors[0].getMessage() and errors[0].exc_info


async def test_cooldown_says_when_to_try_again(fake, db, recommender, tiny_run, sample_images, caplog):
    world = await build_world(
        fake, db, recommender, make_settings(fake.token, tiny_run), cooldown_uses=1, cooldown_seconds=60
    )
    caplog.set_level(logging.INFO)
    try:
        first = await world.run("similar", {"image": world.attach("png", sample_images)})
        assert first.original.embeds
        second = await world.run("genre", {"image": world.attach("png", sample_images)})
        assert second.original.ephemeral and "try again in" in second.original.content
        other_user = await world.run("genre", {"image": world.attach("png", sample_images)}, user=world.bob)
        assert other_user.original.embeds
        assert not any(r.levelno >= logging.WARNING for r in caplog.records if r.name.startswith("bot"))
    finally:
        await world.close()


async def test_help_lists_the_commands(world):
    rec = await world.run("help")
    text = rec.original.embed_text()
    assert rec.original.ephemeral
    for name in ("/similar", "/recommend", "/genre", "/likes", "/forget-me", "/discovery set", "Find similar webtoons"):
        assert name in text


def test_cooldown_and_discovery_picks_come_from_settings():
    from bot.bot import BotOptions
    from core.settings import load_settings

    settings = load_settings(
        env_file=None, TOONMATCH_COOLDOWN_USES=5, TOONMATCH_COOLDOWN_SECONDS=0, TOONMATCH_DISCOVERY_PICKS=4
    )
    options = BotOptions.from_settings(settings, force_sync=True)
    assert (options.cooldown_uses, options.cooldown_seconds, options.discovery_picks) == (5, 0.0, 4)
    assert options.force_sync and options.start_discovery_loop
    defaults, unset = BotOptions(), load_settings(env_file=None).discord
    assert (defaults.cooldown_uses, defaults.cooldown_seconds, defaults.discovery_picks) == (
        unset.cooldown_uses,
        unset.cooldown_seconds,
        unset.discovery_picks,
    )
