"""The catalogues: every message the code uses is in the template and translated into Korean with the same
placeholders; fallbacks (unknown locale, a missing translation), plurals, numbers, titles, compiling a stale catalogue
and a third language that is only a catalogue file."""

from __future__ import annotations

import logging
import os
import pickle
import time
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from core import i18n
from core.i18n import Msg, check_catalogue, placeholders, resolve_locale, translator

ROOT = Path(__file__).resolve().parents[2]
# The keywords ``make i18n`` extracts with: Babel's defaults (``_``, ``N_``, ``ngettext``, …) plus ``Msg``.
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "Msg": None}


def code_messages() -> set[str]:
    """Every message marked in the code (what ``pybabel extract`` would put in ``messages.pot``)."""
    out = set()
    for package in ("bot", "core", "ml", "catalog"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            out.add(message[0] if isinstance(message, tuple) else message)
    return out


def test_every_message_in_the_code_is_in_the_template():
    """A sentence added to the code without ``make i18n`` would reach Korean readers in English."""
    template = {msgid for msgid, _ in i18n.template_messages()}
    used = code_messages()
    missing = sorted(used - template)
    assert not missing, f"run `make i18n` and translate: {missing[:5]}"
    assert len(used) > 150 and "Find similar webtoons" in used  # the bot's sentences, names and descriptions


def test_korean_translates_every_message_with_the_same_placeholders():
    missing = check_catalogue("ko")
    assert missing.untranslated == [], missing.untranslated[:5]
    assert missing.mismatched == [], missing.mismatched[:5]


def test_the_check_catches_a_missing_translation_and_different_placeholders(tmp_path, monkeypatch):
    _catalogue_dir(tmp_path, "xx", {"Romance": "Romanze", "Drawn like {title}": "Gezeichnet wie {titel}"})
    _use(monkeypatch, tmp_path, template=["Romance", "Drawn like {title}", "Sports"])
    missing = check_catalogue("xx")
    assert missing.untranslated == ["Sports"] and missing.mismatched == ["Drawn like {title}"]


def test_a_missing_translation_falls_back_to_english_with_one_warning_at_start_up(tmp_path, monkeypatch, caplog):
    _catalogue_dir(tmp_path, "xx", {"Romance": "Romanze"})
    _use(monkeypatch, tmp_path, template=["Romance", "Sports", "Drama"])
    caplog.set_level(logging.WARNING, logger="core.i18n")
    i18n.check_catalogues()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "xx lacks 2 message(s)" in warnings[0].getMessage()
    caplog.clear()
    tr = translator("xx")
    assert (tr._("Romance"), tr._("Sports")) == ("Romanze", "Sports")  # English for the one sentence
    assert not caplog.records  # and nothing logged mid-answer


def test_unknown_locales_fall_back_to_english():
    assert resolve_locale("ko") == "ko"
    assert resolve_locale("en-US") == resolve_locale("en-GB") == "en"
    assert resolve_locale("pt-BR") == resolve_locale("xx-YY") == resolve_locale(None) == resolve_locale("") == "en"
    assert translator("pt-BR")._("Romance") == "Romance"
    assert translator("ko")._("Romance") == "로맨스"


def test_genre_names_are_the_platforms_korean_names():
    from bot.i18n import GENRE_NAMES, genre_name

    ko = translator("ko")
    expected = {
        "romance": "로맨스",
        "fantasy": "판타지",
        "action": "액션",
        "slice_of_life": "일상",
        "comedy": "개그",
        "thriller": "스릴러",
        "historical": "무협/사극",
        "drama": "드라마",
        "sensibility": "감성",
        "sports": "스포츠",
    }
    assert {g: genre_name(g, ko) for g in expected} == expected
    from catalog.scrape.naver import GENRE_NAMES as NAVER

    assert set(NAVER.values()) <= set(GENRE_NAMES)  # every genre the scraper writes has a name
    assert genre_name("slice_of_life", translator("en")) == "Slice of life"
    assert genre_name("gl", ko) == "gl"  # an unknown genre as it is written


def test_plurals_and_numbers_read_naturally():
    en, ko = translator("en"), translator("ko")
    assert en.ngettext("your {n} rating", "your {n} ratings", 1) == "your 1 rating"
    assert en.ngettext("your {n} rating", "your {n} ratings", 1234) == "your 1,234 ratings"
    assert ko.ngettext("your {n} rating", "your {n} ratings", 1) == "평가 1개"
    assert ko.ngettext("your {n} rating", "your {n} ratings", 3) == "평가 3개"
    assert ko.num(12345) == "12,345" and en.pct(0.874) == "87%"


def test_titles_as_the_reader_knows_them():
    class T:
        title, title_en = "신의 탑", "Tower of God"

    class K:
        title, title_en = "나 혼자만 레벨업", None

    en, ko = translator("en-US"), translator("ko")
    assert (en.title(T), ko.title(T), en.title(K), ko.title(K)) == ("Tower of God", "신의 탑", "나 혼자만 레벨업") + (
        "나 혼자만 레벨업",
    )
    assert en.other_title(T) == "신의 탑" and ko.other_title(T) == "Tower of God" and en.other_title(K) is None
    reason = Msg("because you liked {title}", title=T)
    assert reason == "because you liked Tower of God"  # a str: English in logs and JSON
    assert ko(reason) == "좋아요를 누른 「신의 탑」 기준"


def test_msg_is_english_text_that_translates_later_and_pickles():
    m = Msg("{name}: the file is empty", name="upload")
    assert str(m) == "upload: the file is empty" and isinstance(m, str)
    assert translator("ko")(m) == "upload: 파일이 비어 있어요"
    again = pickle.loads(pickle.dumps(m))
    assert again == m and again.msgid == m.msgid and again.params == {"name": "upload"}
    assert placeholders("a {b} {c!r} {d:>3}") == {"b", "c", "d"}


def test_a_missing_or_stale_compiled_catalogue_is_compiled_when_loaded(tmp_path, monkeypatch):
    po = _catalogue_dir(tmp_path, "xx", {"Romance": "Romanze"})
    _use(monkeypatch, tmp_path, template=["Romance"])
    mo = po.with_suffix(".mo")
    assert not mo.exists()
    assert translator("xx")._("Romance") == "Romanze" and mo.exists()  # a fresh clone: compiled on first use
    _catalogue_dir(tmp_path, "xx", {"Romance": "Liebesgeschichte"})
    old = time.time() - 60
    os.utime(mo, (old, old))  # the .po is newer than the .mo (edited, or pulled)
    i18n._catalogue.cache_clear()
    i18n.translator.cache_clear()
    assert translator("xx")._("Romance") == "Liebesgeschichte"
    assert i18n.compile_all() == [mo]


async def test_a_third_language_is_only_a_catalogue_file(tmp_path, monkeypatch):
    import discord
    from discord import app_commands

    from bot.i18n import CommandTranslator

    _catalogue_dir(
        tmp_path, "ja", {"Romance": "恋愛", "similar": "似た作品", "Find similar webtoons": "似たウェブトゥーン"}
    )
    _use(monkeypatch, tmp_path, template=["Romance", "similar", "Find similar webtoons"])
    assert i18n.available_locales() == ("en", "ja")
    assert translator("ja")._("Romance") == "恋愛"
    names = CommandTranslator()
    slash = app_commands.TranslationContext(app_commands.TranslationContextLocation.command_name, None)
    assert await names.translate(app_commands.locale_str("similar"), discord.Locale.japanese, slash) == "似た作品"
    assert await names.translate(app_commands.locale_str("similar"), discord.Locale.korean, slash) is None
    assert await names.translate(app_commands.locale_str("similar"), discord.Locale.american_english, slash) is None


def test_the_shipped_korean_catalogue_compiles(tmp_path):
    po = i18n.LOCALES_DIR / "ko" / "LC_MESSAGES" / "messages.po"
    data = i18n.compile_catalogue(po, tmp_path / "messages.mo")
    assert (tmp_path / "messages.mo").read_bytes() == data and len(data) > 10_000


# --------------------------------------------------------------------------- helpers


def _catalogue_dir(root: Path, lang: str, translations: dict[str, str]) -> Path:
    folder = root / lang / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(locale=lang if lang != "xx" else None, fuzzy=False)
    for msgid, text in translations.items():
        catalog.add(msgid, text)
    po = folder / "messages.po"
    with po.open("wb") as f:
        write_po(f, catalog)
    return po


def _use(monkeypatch, root: Path, *, template: list[str]) -> None:
    pot = Catalog(fuzzy=False)
    for msgid in template:
        pot.add(msgid)
    with (root / "messages.pot").open("wb") as f:
        write_po(f, pot)
    monkeypatch.setattr(i18n, "LOCALES_DIR", root)
    i18n._catalogue.cache_clear()
    i18n.translator.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    i18n._catalogue.cache_clear()
    i18n.translator.cache_clear()
