"""The bot in the reader's language, end to end on the fake Discord: Korean with ``locale: "ko"`` (no English
sentence left), English with ``"en-US"``, English for a language without a catalogue, the command tree's Korean
localisations, and discovery posts in the server's language (chosen with ``/discovery set language``, else the
server's Discord language)."""

from __future__ import annotations

import re
import unicodedata

import discord
import pytest

from bot.i18n import SLASH_NAME
from tests.bot.conftest import build_world, custom_ids, make_settings, select_options

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the language is not the database's

KO, EN = "ko", "en-US"
# ASCII words a Korean answer may carry besides titles, authors, commands and links: the bot's name, file formats.
ALLOWED = {"Toonmatch", "True", "JPEG", "WebP", "HTTP"}
HANGUL = re.compile(r"[\uac00-\ud7a3]+")


def _vocabulary(engine) -> tuple[set[str], set[str]]:
    """The ASCII and Hangul words of the catalogue's own text (titles, English titles, authors, tags, synopses):
    content, not the bot's sentences."""
    ascii_words, hangul_words = set(), set()
    for t in engine.titles.values():
        for text in (t.id, t.title, t.title_en or "", *t.authors, *t.tags, t.synopsis or ""):
            ascii_words |= set(re.findall(r"[A-Za-z]+", text))
            hangul_words |= set(HANGUL.findall(text))
    return ascii_words, hangul_words


def _strip_markup(text: str) -> str:
    text = re.sub(r"https?://\S+?(?=[)\s]|$)", " ", text)  # links
    text = re.sub(r"`[^`]*`", " ", text)  # code spans: commands, options, ids
    text = re.sub(r"<[^>]+>", " ", text)  # mentions, channels, timestamps
    text = re.sub(r"“[^”]*”", " ", text)  # a quoted file name or value
    text = re.sub(r"\b\w+/[\w.+-]+", " ", text)  # MIME types
    return re.sub(r"[A-Za-z]+…", " ", text)  # a title clipped mid-word


def english_words(text: str, engine) -> list[str]:
    """English words of 4+ letters in a Korean answer that are not the catalogue's, a link, a command or a name."""
    vocabulary, _ = _vocabulary(engine)
    words = re.findall(r"[A-Za-z]{4,}", _strip_markup(text))
    return [w for w in words if w not in ALLOWED and w not in vocabulary]


def korean_words(text: str, engine) -> list[str]:
    """Hangul in an English answer that is not the catalogue's own (titles without an English name, authors)."""
    _, vocabulary = _vocabulary(engine)
    return [w for w in HANGUL.findall(_strip_markup(text)) if w not in vocabulary]


def _all_text(msg) -> str:
    """Everything a reader sees in a message: content, embeds, button labels, select placeholders and options."""
    parts = [msg.content or "", msg.embed_text()]
    for comp in msg.all_components():
        parts += [comp.get("label") or "", comp.get("placeholder") or ""]
        for opt in comp.get("options") or []:
            parts += [opt.get("label") or "", opt.get("description") or ""]
    return "\n".join(parts)


def _korean(msg, engine) -> str:
    text = _all_text(msg)
    assert HANGUL.search(text), text
    assert english_words(text, engine) == [], (english_words(text, engine), text)
    return text


def _english(msg, engine) -> str:
    text = _all_text(msg)
    assert korean_words(text, engine) == [], (korean_words(text, engine), text)
    return text


def _a_title_with_both_names(engine):
    return sorted((t for t in engine.titles.values() if t.title_en and not t.adult), key=lambda t: t.id)[0]


@SQLITE
async def test_a_korean_reader_meets_no_english_sentence(world, sample_images, bot_engine):
    engine = bot_engine
    # /help
    help_ = await world.run("help", locale=KO)
    text = _korean(help_.original, engine)
    assert "/비슷한웹툰" in text and "/발견 설정" in text and "비슷한 웹툰 찾기" in text  # the names the client shows

    # /similar: heading, genre guess, lines, footer, the select and the buttons
    similar = await world.run("similar", {"image": world.attach("png", sample_images)}, locale=KO)
    text = _korean(similar.original, engine)
    embed = similar.original.embeds[0]
    assert embed["title"] == "내 이미지와 그림체가 비슷한 웹툰" and "장르 추측" in embed["description"]
    assert "[데모]" in embed["footer"]["text"]
    options = select_options(similar.original)
    titles = {t.id: t for t in engine.titles.values()}
    assert all(o["label"].split(". ", 1)[1] == titles[o["value"]].title[: len(o["label"]) - 3] for o in options[:5])
    assert "비슷해요" in options[0]["description"]

    # someone else's click is refused in their own language; the asker's page is redrawn in Korean
    pick_id = f"tm:pick:{world.alice.id}"
    other = await world.fake.click("tm:page:next:1", message=similar.original, user=world.bob, locale=EN)
    assert "Only" in (await other.wait_response()).content
    page = await world.fake.click("tm:page:next:1", message=similar.original, user=world.alice, locale=KO)
    await page.wait_response()
    _korean(similar.original, engine)
    assert similar.original.find_component(pick_id)["placeholder"] == "결과 24개 · 하나를 골라 보고 평가하세요…"
    assert similar.original.embeds[0]["fields"][0]["name"] == "비슷한 그림체 · 24편 중 6–10"

    # a title card and a rating from the select, in the chooser's language
    pick = await world.fake.click(
        pick_id, message=similar.original, values=[options[0]["value"]], user=world.alice, locale=KO
    )
    card = await pick.wait_response()
    _korean(card, engine)
    up = next(c for c in card.custom_ids() if c.startswith("tm:ratec:up:"))
    rated = await world.fake.click(up, message=card, user=world.alice, locale=KO)
    await rated.wait_response()
    second = custom_ids(similar.original, "tm:rate:up:")[1]
    like = await world.fake.click(second, message=similar.original, user=world.alice, locale=KO)
    assert "기억할게요" in (await like.wait_response()).content

    # /recommend (the heading names the title in Korean) and /genre
    title = _a_title_with_both_names(engine)
    rec = await world.run("recommend", {"title": title.id}, locale=KO)
    assert rec.original.embeds[0]["title"] == f"「{title.title}」 같은 그림체의 웹툰"
    _korean(rec.original, engine)
    genre = await world.run("genre", {"image": world.attach("strip", sample_images)}, locale=KO)
    assert genre.original.embeds[0]["title"] == "장르 추측" and "컷으로 나눠 읽고" in genre.original.embed_text()
    _korean(genre.original, engine)

    # /likes and /forget-me
    likes = await world.run("likes", locale=KO)
    assert likes.original.embeds[0]["title"] == "내 평가 (2개)"
    _korean(likes.original, engine)
    forget = await world.run("forget-me", locale=KO)
    assert "평가 2개" in forget.original.embed_text() and "전부 삭제" in _korean(forget.original, engine)

    # refusals: a file that is no image, a missing permission
    bad = await world.run("similar", {"image": world.attach("text", sample_images)}, locale=KO)
    assert bad.original.ephemeral and "이미지가 아니에요" in _korean(bad.original, engine)
    broken = await world.run("similar", {"image": world.attach("corrupt", sample_images)}, locale=KO)
    await broken.wait_followups(1)
    refusal = broken.followups[-1]
    assert refusal.ephemeral and "🖼️ 이 파일은 쓸 수 없어요: 이미지가 깨졌거나 잘려 있어요" in _korean(refusal, engine)
    denied = await world.run("discovery set", {"channel": world.recs}, locale=KO, enforce_permissions=False)
    assert "**서버 관리** 권한이 필요해요" in _korean(denied.original, engine)


@SQLITE
async def test_autocomplete_matches_both_names_and_shows_the_readers_name_first(world, bot_engine):
    title = _a_title_with_both_names(bot_engine)
    decomposed = unicodedata.normalize("NFD", title.title)
    assert decomposed != title.title
    for typed in (decomposed, title.title_en.upper(), "\u200b" + title.title_en):
        ko = await world.fake.autocomplete("recommend", "title", typed, user=world.alice, guild=world.guild, locale=KO)
        choices = {c["value"]: c["name"] for c in await ko.wait_choices()}
        assert choices.get(title.id, "").startswith(title.title), (typed, choices)
        en = await world.fake.autocomplete("recommend", "title", typed, user=world.alice, guild=world.guild, locale=EN)
        choices = {c["value"]: c["name"] for c in await en.wait_choices()}
        assert choices.get(title.id, "").startswith(title.title_en), (typed, choices)
    long = await world.fake.autocomplete("recommend", "title", "가" * 6000, user=world.alice, guild=world.guild)
    assert isinstance(await long.wait_choices(), list)


@SQLITE
async def test_an_english_reader_meets_korean_only_in_titles(world, sample_images, bot_engine):
    help_ = await world.run("help", locale=EN)
    assert "Commands" in _english(help_.original, bot_engine)
    similar = await world.run("similar", {"image": world.attach("png", sample_images)}, locale=EN)
    assert similar.original.embeds[0]["title"] == "Webtoons drawn like your image"
    _english(similar.original, bot_engine)
    titles = bot_engine.titles
    for option in select_options(similar.original):  # the English name where the title has one
        t = titles[option["value"]]
        assert option["label"].split(". ", 1)[1].rstrip("…") in (t.title_en or t.title)
    title = _a_title_with_both_names(bot_engine)
    rec = await world.run("recommend", {"title": title.id}, locale=EN)
    assert rec.original.embeds[0]["title"] == f"Drawn like {title.title_en}"
    # a language without a catalogue is English, whatever the server speaks
    other = await world.run("genre", {"image": world.attach("png", sample_images)}, locale="pt-BR")
    assert other.original.embeds[0]["title"] == "Genre guess"


@SQLITE
async def test_the_command_tree_has_korean_names_and_descriptions(world):
    def check(node: dict, where: str, *, menu: bool = False) -> int:
        names, descriptions = node.get("name_localizations") or {}, node.get("description_localizations") or {}
        assert names.get("ko") and names["ko"] != node["name"], where
        if menu:
            assert 1 <= len(names["ko"]) <= 32
        else:
            assert SLASH_NAME.match(names["ko"]) and names["ko"] == names["ko"].lower(), (where, names["ko"])
            assert descriptions.get("ko") and len(descriptions["ko"]) <= 100, where
        count = 1
        for option in node.get("options") or []:
            count += check(option, f"{where} {option['name']}")
        for choice in node.get("choices") or []:
            localised = choice.get("name_localizations") or {}
            assert localised.get("ko") or HANGUL.search(choice["name"]) or choice["value"] == "en", (where, choice)
        return count

    commands = world.fake.registered_commands
    checked = sum(check(c, c["name"], menu=c.get("type", 1) != 1) for c in commands)
    # 7 commands, 2 groups, 2 menus, 4 discovery and 4 settings subcommands, and their 14 options
    assert checked == 33
    slash = {c["name"]: c for c in commands if c.get("type", 1) == 1}
    assert slash["similar"]["name_localizations"]["ko"] == "비슷한웹툰"
    menus = {c["name"]: c["name_localizations"]["ko"] for c in commands if c.get("type") == 3}
    assert menus == {"Find similar webtoons": "비슷한 웹툰 찾기", "Guess genre": "장르 맞히기"}
    # the sync hash covers the localisations: a changed translation is a changed tree
    before = await world.bot.commands_hash()

    class Changed(discord.app_commands.Translator):
        async def translate(self, string, locale, context):
            return "다른이름" if locale is discord.Locale.korean and string.message == "similar" else None

    await world.bot.tree.set_translator(Changed())
    assert await world.bot.commands_hash() != before


async def _post_in(world, guild, channel, admin, *, locale: str, language: str | None = None):
    options = {"channel": channel, "every": 6} | ({"language": language} if language else {})
    where = dict(user=admin, guild=guild, channel=channel, locale=locale)
    answer = await (await world.fake.slash_command("discovery set", options, **where)).wait_response()
    said = await (await world.fake.slash_command("discovery now", {}, **where)).wait_response()
    [post] = world.fake.channel_messages(channel)[-1:]
    return answer, said, post


@SQLITE
async def test_discovery_posts_in_the_language_the_server_chose(world, bot_engine):
    set_, now, post = await _post_in(world, world.guild, world.recs, world.admin, locale=EN, language="ko")
    assert "Posts are written in 한국어" in set_.content and "Posted 3 titles" in now.content  # the admin's language
    text = _korean(post, bot_engine)
    assert post.content.startswith("🔭 **발견**") and len(post.embeds) == 3
    genres = {g for e in post.embeds for g in (e.get("description") or "").split("\n")[1:2]}
    assert any(HANGUL.search(g) for g in genres), text
    # back to the server's own language (English here)
    _, _, again = await _post_in(world, world.guild, world.recs, world.admin, locale=KO, language="server")
    assert again.content.startswith("🔭 **Discovery**")
    _english(again, bot_engine)


@SQLITE
async def test_a_korean_server_gets_korean_posts_without_choosing(world, bot_engine):
    guild = world.fake.add_guild("웹툰 동아리", locale="ko")
    channel = world.fake.add_channel(guild, "추천")
    admin = world.fake.add_member(guild, "관리자", permissions=discord.Permissions(manage_guild=True))
    await world.fake.wait_until(lambda: (g := world.bot.get_guild(guild.id)) is not None and g.get_channel(channel.id))
    set_, now, post = await _post_in(world, guild, channel, admin, locale=EN)
    assert "Posts are written in 한국어" in set_.content
    _korean(post, bot_engine)
    assert post.content.startswith("🔭 **발견**")


@SQLITE
async def test_cooldown_refusal_in_korean(fake, db, recommender, tiny_run, sample_images, bot_engine):
    world = await build_world(
        fake, db, recommender, make_settings(fake.token, tiny_run), cooldown_uses=1, cooldown_seconds=60
    )
    try:
        await world.run("similar", {"image": world.attach("png", sample_images)}, locale=KO)
        second = await world.run("genre", {"image": world.attach("png", sample_images)}, locale=KO)
        assert second.original.ephemeral and re.search(r"\d+초 뒤에 다시", second.original.content)
        _korean(second.original, bot_engine)
    finally:
        await world.close()


async def test_the_contact_sheet_caption_follows_the_asker(bot_engine, sample_images):
    from bot.answers import sheet_text
    from core.i18n import translator

    answer = bot_engine.similar(sample_images["png"], k=24)
    ko, en = sheet_text(answer, translator("ko")), sheet_text(answer, translator("en-US"))
    assert (ko.query, ko.no_cover, en.query) == ("내 이미지", "표지 없음", "QUERY")
    title = next(r.title for r in answer.results if r.title.title_en)
    assert ko.names[title.id] == title.title and en.names[title.id] == title.title_en
    korean_sheet, _ = bot_engine.contact_sheet(answer, None, text=ko)
    english_sheet, _ = bot_engine.contact_sheet(answer, None, text=en)
    assert korean_sheet != english_sheet  # the words differ; the grid and its numbers are the same


@SQLITE
async def test_a_korean_admin_meets_no_english_sentence_in_settings_and_status(world, bot_engine):
    show = await world.run("settings show", user=world.admin, locale=KO)
    _korean(show.original, bot_engine)
    assert "3 (봇 기본값)" in show.original.embed_text()
    changed = await world.run("settings privacy", {"answers": "private"}, user=world.admin, locale=KO)
    text = _korean(changed.original, bot_engine)
    assert "바꿨어요: 답변 공개 범위" in text and "**비공개**" in text
    await world.run("discovery set", {"channel": world.recs, "every": 12}, user=world.admin, locale=KO)
    status = await world.run("discovery status", user=world.admin, locale=KO)
    text = _korean(status.original, bot_engine)
    assert "12시간마다" in text and "아직 없어요" in text  # the schedule, no post yet


@SQLITE
async def test_the_which_image_prompt_and_a_refusal_of_someone_elses_answer_in_korean(world, sample_images, bot_engine):
    target = world.fake.user_message(
        world.general,
        "",
        author=world.bob,
        attachments=[world.attach("png", sample_images), world.attach("jpeg", sample_images)],
    )
    rec = await world.fake.context_menu("Find similar webtoons", target, user=world.alice, locale=KO)
    prompt = await rec.wait_response()
    [select_id] = prompt.custom_ids()
    select = prompt.find_component(select_id)
    text = "\n".join([prompt.content, select["placeholder"], *(o["description"] for o in select["options"])])
    assert english_words(text, bot_engine) == [] and "이미지가 2개" in prompt.content, text
    choice = await world.fake.click(select_id, values=["0"], message=prompt, user=world.alice, locale=KO)
    answer = await choice.wait_response(timeout=20)
    _korean(answer, bot_engine)
    assert "1번 이미지를 쓸게요" in prompt.content
    # bob (Korean) tries alice's 🗑 and her pager: refused in Korean, the answer stays
    for custom_id in ("tm:del", "tm:page:next:1"):
        other = await world.fake.click(custom_id, message=answer, user=world.bob, locale=KO)
        refusal = await other.wait_response()
        assert refusal.ephemeral and _korean(refusal, bot_engine)
    assert not answer.deleted
