"""/genre and "Guess genre" end to end."""

from __future__ import annotations

import re

from bot.i18n import ENGLISH, genre_name
from tests.bot.conftest import ON_BOTH_RUNS


def _percentages(text: str) -> list[int]:
    return [int(p) for p in re.findall(r"(\d+)%", text)]


@ON_BOTH_RUNS
async def test_genre_shows_top_three_with_probabilities(world, sample_images, bot_engine):
    rec = await world.run("genre", {"image": world.attach("png", sample_images)})
    embed = rec.original.embeds[0]
    assert not rec.original.ephemeral
    assert embed["title"] == "Genre guess"
    lines = [line for line in embed["description"].splitlines() if line.startswith("`")]
    assert len(lines) == 3
    assert all(any(f"**{genre_name(g, ENGLISH)}**" in line for g in bot_engine.genres) for line in lines)
    pcts = _percentages(embed["description"])
    assert pcts == sorted(pcts, reverse=True) and sum(pcts) <= 101


@ON_BOTH_RUNS
async def test_tall_strip_is_read_panel_by_panel(world, sample_images):
    rec = await world.run("genre", {"image": world.attach("strip", sample_images), "private": True})
    assert rec.original.ephemeral
    assert re.search(r"read it as \d+ panels", rec.original.embeds[0]["description"])


async def test_genre_refuses_a_text_file(world, sample_images):
    rec = await world.run("genre", {"image": world.attach("text", sample_images)})
    assert rec.original.ephemeral and "not an image" in rec.original.content


@ON_BOTH_RUNS
async def test_guess_genre_context_menu(world, sample_images):
    target = world.fake.user_message(world.general, attachments=[world.attach("jpeg", sample_images)])
    rec = await world.fake.context_menu("Guess genre", target, user=world.alice)
    msg = await rec.wait_response(timeout=20)
    assert msg.embeds[0]["title"] == "Genre guess"
