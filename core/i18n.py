"""Translations: gettext catalogues (Babel) with English source strings in the code.

The catalogues live in ``core/locales/``: ``messages.pot`` (every message the code uses, made by ``make i18n``) and
one ``<lang>/LC_MESSAGES/messages.po`` per language (compiled to ``messages.mo`` by ``make setup``/``make i18n``, or
here when the ``.mo`` is missing or older than its ``.po``). English is the source language and needs no catalogue;
a new language is one more ``.po`` file, nothing else.

How code says something in the reader's language::

    tr = translator("ko")                          # or bot.i18n.tr_for(interaction)
    tr._("Slow down — try again in {wait} s.", wait=3)
    tr.ngettext("{n} title", "{n} titles", n)      # ``n`` is passed to the format too
    tr(msg)                                         # a Msg made elsewhere (an error, a reason)
    tr.num(1234), tr.pct(0.87), tr.title(title)    # numbers, percentages, a title as the reader knows it

Placeholders are ``str.format`` fields (``{name}``), the same in the source and every translation. A message made
where no reader is known yet (an exception, a module constant) is a :class:`Msg` (a ``str`` whose value is the
English text, so logs and JSON stay English) or marked with :func:`N_` and translated later with ``tr._(text)``.

A missing translation falls back to the English sentence (silently: :func:`check_catalogues` lists them once at
start-up); an unknown locale (``pt-BR``) falls back to English.
"""

from __future__ import annotations

import gettext
import io
import logging
import string
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
SOURCE_LOCALE = "en"


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translate later with ``tr._(message)``)."""
    return message


def _display_title(value: Any, lang: str) -> str | None:
    """A catalogue title (anything with ``title`` and ``title_en``) as a reader of ``lang`` knows it: the Korean
    title for Korean readers, else the English one where there is one, else the Korean one."""
    korean, english = getattr(value, "title", None), getattr(value, "title_en", None)
    if not isinstance(korean, str):
        return None
    if lang != "ko" and isinstance(english, str) and english.strip():
        return english
    return korean


#: Genre names of the catalogue format (``catalog/scrape/naver.py``'s canonical names) as readers see them; the
#: Korean catalogue has Naver's names (로맨스, 판타지, …).
GENRE_NAMES = {
    "romance": N_("Romance"),
    "fantasy": N_("Fantasy"),
    "action": N_("Action"),
    "slice_of_life": N_("Slice of life"),
    "comedy": N_("Comedy"),
    "thriller": N_("Thriller"),
    "historical": N_("Historical / martial arts"),
    "martial_arts": N_("Martial arts"),
    "drama": N_("Drama"),
    "sensibility": N_("Heartwarming"),
    "sports": N_("Sports"),
}


def genre_msg(genre: str) -> str:
    """A genre to show later in the reader's language: a :class:`Msg` for a genre the catalogues name, else the
    genre as it is written (``"gl"``)."""
    known = GENRE_NAMES.get(genre)
    return Msg(known) if known else genre.replace("_", " ")


class Msg(str):
    """A message to translate later: its value is the English text (formatted), ``msgid`` and ``params`` let a
    :class:`Translator` say it in another language. ``Msg("no title matches {text}", text=q)``. A param that is a
    catalogue title is shown as the reader knows it."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Msg:
        obj = super().__new__(cls, _format(msgid, params, SOURCE_LOCALE))
        obj.msgid = msgid
        obj.params = params
        return obj

    def __reduce__(self):  # picklable (exceptions cross process pools)
        return (_msg_from, (self.msgid, self.params))


def _msg_from(msgid: str, params: dict[str, Any]) -> Msg:
    return Msg(msgid, **params)


def _shown(value: Any, lang: str) -> Any:
    """A param as a reader of ``lang`` sees it: a title by the name they know, a :class:`Msg` translated, a tuple
    as its parts joined with " · " ("Fantasy · 회귀")."""
    if isinstance(value, Msg):
        return translator(lang)._(value)
    if isinstance(value, tuple):
        return " · ".join(str(_shown(v, lang)) for v in value)
    name = _display_title(value, lang)
    return name if name is not None else value


def _format(text: str, params: dict[str, Any], lang: str) -> str:
    if not params:
        return text
    shown = {key: _shown(value, lang) for key, value in params.items()}
    try:
        return text.format(**shown)
    except (KeyError, IndexError, ValueError):  # a broken translation must never break an answer
        log.debug("message %r could not be formatted with %s", text, sorted(params))
        return text


def placeholders(text: str) -> set[str]:
    """The ``{field}`` names of a message (for the catalogue checks)."""
    out = set()
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None:
            out.add(field.split(".", 1)[0].split("[", 1)[0])
    return out


# --------------------------------------------------------------------------- catalogues


def available_locales() -> tuple[str, ...]:
    """The languages with a catalogue (``ko``, …), plus English, the source."""
    found = sorted(p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LOCALE, *found)


def compile_catalogue(po: Path, mo: Path | None = None) -> bytes:
    """Compile one ``.po`` to ``.mo`` bytes (fuzzy entries left out, as ``pybabel compile`` does); written to
    ``mo`` when given and writable."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    data = buf.getvalue()
    if mo is not None:
        try:
            tmp = mo.with_suffix(".mo.tmp")
            tmp.write_bytes(data)
            tmp.replace(mo)
        except OSError as exc:  # a read-only install: compiled in memory each start
            log.debug("could not write %s: %s", mo, exc)
    return data


def compile_all() -> list[Path]:
    """Compile every catalogue whose ``.mo`` is missing or older than its ``.po``; returns the ``.mo`` files."""
    out = []
    for po in sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            compile_catalogue(po, mo)
        out.append(mo)
    return out


_LOCK = threading.Lock()


@cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (compiling it first when the ``.mo`` is missing or stale)."""
    if lang == SOURCE_LOCALE:
        return gettext.NullTranslations()
    po = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if not po.exists() and not mo.exists():
        return gettext.NullTranslations()
    with _LOCK:
        if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
            data = compile_catalogue(po, mo)
        else:
            data = mo.read_bytes()
    return gettext.GNUTranslations(io.BytesIO(data))


def resolve_locale(code: str | None) -> str:
    """The catalogue language for a Discord/BCP 47 locale code: ``"ko"`` → ``"ko"``, ``"en-US"`` → ``"en"``,
    ``"pt-BR"`` (no catalogue) → ``"en"``; tries the full code (``pt_BR``) before the language (``pt``)."""
    if not code:
        return SOURCE_LOCALE
    code = str(getattr(code, "value", code)).strip().replace("-", "_")
    known = available_locales()
    for candidate in (code, code.split("_", 1)[0], code.lower(), code.split("_", 1)[0].lower()):
        if candidate in known:
            return candidate
    return SOURCE_LOCALE


@dataclass(frozen=True)
class Missing:
    locale: str
    untranslated: list[str]  # msgids without a translation (shown in English)
    mismatched: list[str]  # msgids whose translation's placeholders differ from the source


def template_messages() -> list[tuple[str, str | None]]:
    """Every message of ``messages.pot``: (msgid, plural msgid or None)."""
    from babel.messages.pofile import read_po

    pot = LOCALES_DIR / f"{DOMAIN}.pot"
    if not pot.exists():
        return []
    with pot.open("rb") as f:
        catalog = read_po(f)
    out = []
    for m in catalog:
        if not m.id:
            continue
        if isinstance(m.id, tuple | list):
            out.append((m.id[0], m.id[1]))
        else:
            out.append((m.id, None))
    return out


def check_catalogue(lang: str) -> Missing:
    """What ``lang``'s catalogue lacks against ``messages.pot`` (untranslated, fuzzy) or gets wrong (placeholders
    that differ from the source's)."""
    from babel.messages.pofile import read_po

    po = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as f:
        catalog = read_po(f)
    untranslated, mismatched = [], []
    for msgid, plural in template_messages():
        entry = catalog.get(msgid if plural is None else (msgid, plural))
        if entry is None:
            entry = catalog.get(msgid)
        strings = entry.string if entry is not None else None
        values = [s for s in (strings if isinstance(strings, tuple | list) else [strings]) if s]
        if entry is None or entry.fuzzy or not values:
            untranslated.append(msgid)
            continue
        wanted = placeholders(msgid) | (placeholders(plural) if plural else set())
        if any(placeholders(v) != wanted and not (plural and placeholders(v) <= wanted) for v in values):
            mismatched.append(msgid)
    return Missing(lang, untranslated, mismatched)


def check_catalogues(languages: Iterable[str] | None = None) -> list[Missing]:
    """Check every catalogue once (at start-up) and log one WARNING per language that lacks translations: those
    sentences are shown in English, never an error in the middle of an answer."""
    out = []
    for lang in languages if languages is not None else available_locales()[1:]:
        try:
            missing = check_catalogue(lang)
        except Exception as exc:  # a broken .po must not stop the bot: that language falls back to English
            log.warning("translations: the %s catalogue could not be read (%s); it falls back to English", lang, exc)
            continue
        if missing.untranslated or missing.mismatched:
            sample = ", ".join(repr(m) for m in (missing.untranslated + missing.mismatched)[:3])
            log.warning(
                "translations: %s lacks %d message(s) and has %d with wrong placeholders (shown in English): %s",
                lang,
                len(missing.untranslated),
                len(missing.mismatched),
                sample,
            )
        out.append(missing)
    return out


# --------------------------------------------------------------------------- translating


class Translator:
    """Messages, plurals, numbers and titles in one language (``tr = translator("ko")``)."""

    def __init__(self, lang: str) -> None:
        self.locale = lang
        self._cat = _catalogue(lang)

    def __repr__(self) -> str:
        return f"Translator({self.locale!r})"

    def _(self, message: str, **params: Any) -> str:
        """``message`` (English source text, or a :class:`Msg`) in this language, formatted with ``params``."""
        if isinstance(message, Msg):
            params = {**message.params, **params}
            message = message.msgid
        text = self._cat.gettext(message) if message else message
        return _format(text, params, self.locale)

    __call__ = _

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        """The plural form of this language for ``n`` (``{n}`` in the text is ``n``, formatted as a number)."""
        text = self._cat.ngettext(singular, plural, n)
        return _format(text, {"n": self.num(n), **params}, self.locale)

    def maybe(self, message: str | None) -> str | None:
        return self._(message) if message else message

    def num(self, value: float) -> str:
        """A number as this language writes it (``1,234``)."""
        from babel.numbers import format_decimal

        try:
            return format_decimal(value, locale=self.locale)
        except Exception:
            return str(value)

    def pct(self, p: float) -> str:
        """A share in [0, 1] as a whole percentage (``87%``)."""
        return f"{round(max(0.0, min(1.0, float(p))) * 100)}%"

    def title(self, title: Any) -> str:
        """A catalogue title's name as this reader knows it."""
        return _display_title(title, self.locale) or str(title)

    def other_title(self, title: Any) -> str | None:
        """The title's other name (shown in brackets after :meth:`title`), if it has one."""
        shown = self.title(title)
        for name in (getattr(title, "title", None), getattr(title, "title_en", None)):
            if isinstance(name, str) and name.strip() and name != shown:
                return name
        return None


@lru_cache(maxsize=64)
def translator(code: str | None = None) -> Translator:
    """The translator for a locale code (``"ko"``, ``"en-US"``, ``"pt-BR"`` → English)."""
    return Translator(resolve_locale(code))


ENGLISH = Translator(SOURCE_LOCALE)


if __name__ == "__main__":  # ``python -m core.i18n``: compile the catalogues (make setup)
    for path in compile_all():
        print(path)
