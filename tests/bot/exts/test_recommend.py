"""/recommend with autocomplete end to end."""

from __future__ import annotations

from tests.bot.conftest import ON_BOTH_RUNS, select_options


def _sfw_title(engine):
    return sorted((t for t in engine.titles.values() if not t.adult and t.title_en), key=lambda t: t.id)[0]


async def test_autocomplete_suggests_fuzzy_matches_in_english_and_korean(world, bot_engine):
    title = _sfw_title(bot_engine)
    english = await world.fake.autocomplete("recommend", "title", title.title_en[:-2].lower(), user=world.alice)
    choices = await english.wait_choices()
    assert 1 <= len(choices) <= 25
    assert title.id in [c["value"] for c in choices]
    korean = await world.fake.autocomplete("recommend", "title", title.title[:4], user=world.alice)
    assert title.id in [c["value"] for c in await korean.wait_choices()]


async def test_autocomplete_with_nothing_typed_offers_titles(world):
    rec = await world.fake.autocomplete("recommend", "title", "", user=world.alice)
    choices = await rec.wait_choices()
    assert len(choices) == 25 and all(len(c["name"]) <= 100 for c in choices)


async def test_autocomplete_hides_adult_titles_outside_nsfw_channels(world, bot_engine):
    adult = next(t for t in bot_engine.titles.values() if t.adult)
    sfw = await world.fake.autocomplete("recommend", "title", adult.title, user=world.alice, channel=world.general)
    assert adult.id not in [c["value"] for c in await sfw.wait_choices()]
    off = await world.fake.autocomplete("recommend", "title", adult.title, user=world.alice, channel=world.adult)
    assert adult.id not in [c["value"] for c in await off.wait_choices()]  # the server has not allowed them
    await world.run("settings adult", {"allowed": True}, user=world.admin)
    nsfw = await world.fake.autocomplete("recommend", "title", adult.title, user=world.alice, channel=world.adult)
    assert adult.id in [c["value"] for c in await nsfw.wait_choices()]


@ON_BOTH_RUNS
async def test_recommend_from_a_title_answers_like_similar(world, bot_engine):
    title = _sfw_title(bot_engine)
    rec = await world.run("recommend", {"title": title.id})
    msg = rec.original
    assert rec.callback_type == 5 and not msg.ephemeral
    assert msg.embeds[0]["title"] == f"Drawn like {title.title_en or title.title}"  # the English reader's name
    values = [o["value"] for o in select_options(msg)]
    assert len(values) == 24 and title.id not in values
    assert msg.filenames and not any(bot_engine.titles[v].adult for v in values)


@ON_BOTH_RUNS
async def test_recommend_accepts_a_typed_english_title(world, bot_engine):
    title = _sfw_title(bot_engine)
    rec = await world.run("recommend", {"title": title.title_en})
    assert rec.original.embeds[0]["title"] == f"Drawn like {title.title_en}"
    korean = await world.run("recommend", {"title": title.title_en}, locale="ko")
    assert korean.original.embeds[0]["title"] == f"「{title.title}」 같은 그림체의 웹툰"


async def test_unknown_title_gets_closest_matches_ephemerally(world, bot_engine):
    title = _sfw_title(bot_engine)
    typo = " ".join(w[:-1] for w in title.title_en.replace("[DEMO]", "").split()) + " qq"
    rec = await world.run("recommend", {"title": typo})
    msg = rec.original
    assert rec.callback_type == 4 and msg.ephemeral  # refused at once, nothing public
    assert "don't know that title" in msg.content and "Closest matches" in msg.content
    assert f"• {title.title}" in msg.content and title.id in msg.content


async def test_adult_title_is_refused_outside_nsfw_channels(world, bot_engine):
    adult = next(t for t in bot_engine.titles.values() if t.adult)
    rec = await world.run("recommend", {"title": adult.id}, channel=world.general)
    assert rec.original.ephemeral and "age-restricted channel" in rec.original.content
    off = await world.run("recommend", {"title": adult.id}, channel=world.adult)
    assert off.original.ephemeral and "/settings adult" in off.original.content
    await world.run("settings adult", {"allowed": True}, user=world.admin)
    ok = await world.run("recommend", {"title": adult.id}, channel=world.adult)
    assert not ok.original.ephemeral and ok.original.embeds
    await world.run("settings adult", {"allowed": False}, user=world.admin)  # the change is seen at once
    again = await world.run("recommend", {"title": adult.id}, channel=world.adult)
    assert again.original.ephemeral and "/settings adult" in again.original.content


def test_choices_are_at_most_25_and_never_adult_outside_nsfw(bot_engine):
    from unittest.mock import MagicMock

    from bot.bot import Toonmatch
    from bot.exts.recommend import Recommend
    from ml.serve.recommender import Recommender

    bot = MagicMock(spec=Toonmatch)
    bot.recommender = Recommender(bot_engine)
    cog = Recommend(bot)
    everything = cog.choices("", nsfw=True)
    assert len(everything) == 25 and len({c.value for c in everything}) == 25
    adult = {t.id for t in bot_engine.titles.values() if t.adult}
    for text in ("", "demo", "데모", "the"):
        assert not {c.value for c in cog.choices(text, nsfw=False)} & adult
        assert all(len(c.name) <= 100 for c in cog.choices(text, nsfw=False))


async def test_a_private_recommend_is_answered_only_to_the_asker(world, bot_engine):
    title = _sfw_title(bot_engine)
    public = await world.run("recommend", {"title": title.id})
    private = await world.run("recommend", {"title": title.id, "private": True})
    assert not public.original.ephemeral
    assert private.original.ephemeral and private.original.embeds and len(select_options(private.original)) == 24
