"""The bot's languages: which one a reader gets, the command tree's translations and the names the bot shows.

* :func:`tr_for` — the translator of an interaction: the user's client language (``interaction.locale``), then the
  server's (``interaction.guild_locale``), then English; a language without a catalogue is English.
* :func:`tr_for_guild` — the translator of a server when there is no interaction (discovery posts, "looks like…"
  replies): the language chosen with ``/discovery set language`` (``guild_settings.locale``), else the server's
  Discord language.
* :class:`CommandTranslator` — set on the command tree: ``name_localizations``/``description_localizations`` of
  every command, group, option, choice and context menu in every language with a catalogue.

Every user-visible string goes through a :class:`core.i18n.Translator` (``tr._("…")``): see :mod:`core.i18n`.
"""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands

from core.i18n import ENGLISH, GENRE_NAMES, N_, SOURCE_LOCALE, Translator, available_locales, resolve_locale, translator

log = logging.getLogger(__name__)

__all__ = ["ENGLISH", "N_", "Translator", "translator", "tr_for", "tr_for_guild", "genre_name", "perm_names"]

#: Discord's rule for slash command, group and option names (Hangul and other letters allowed, lower case).
SLASH_NAME = re.compile(r"^[-_\w]{1,32}$")


def tr_for(interaction: discord.Interaction) -> Translator:
    """The reader's language: the client's, then the server's, then English (a locale without a catalogue, e.g.
    ``pt-BR``, is English: the user's own language wins over the server's whenever Discord sends it)."""
    for code in (getattr(interaction, "locale", None), getattr(interaction, "guild_locale", None)):
        if code is not None:
            return translator(getattr(code, "value", str(code)))
    return ENGLISH


def _is_english(code: object) -> bool:
    return str(getattr(code, "value", code)).lower().startswith("en")


def tr_for_guild(stored: str | None, guild: discord.Guild | None = None) -> Translator:
    """A server's language without an interaction: the stored choice (``/discovery set language``), else the
    server's Discord language (its community locale), else English."""
    if stored:
        return translator(stored)
    if guild is not None and guild.preferred_locale is not None:
        return translator(guild.preferred_locale.value)
    return ENGLISH


# --------------------------------------------------------------------------- names the bot shows


def language_name(code: str) -> str:
    """A language named in itself: ``"ko"`` → ``"한국어"``, ``"en"`` → ``"English"`` (from Babel's CLDR data)."""
    from babel import Locale

    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_"))
    except Exception:
        return code
    return name[:1].upper() + name[1:] if name else code


def genre_name(genre: str, tr: Translator) -> str:
    """A genre as the reader's platform names it; an unknown genre as it is written (``"gl"`` → ``"gl"``)."""
    known = GENRE_NAMES.get(genre)
    return tr._(known) if known else genre.replace("_", " ")


#: Permission flags as Discord's settings name them.
PERMISSION_NAMES = {
    "manage_guild": N_("Manage Server"),
    "view_channel": N_("View Channel"),
    "send_messages": N_("Send Messages"),
    "embed_links": N_("Embed Links"),
    "attach_files": N_("Attach Files"),
    "read_message_history": N_("Read Message History"),
}


def perm_names(names: list[str], tr: Translator) -> str:
    """``["manage_guild"]`` → ``"Manage Server"`` (in the reader's language)."""
    out = []
    for p in names:
        known = PERMISSION_NAMES.get(p)
        out.append(tr._(known) if known else p.replace("_", " ").replace("guild", "server").title())
    return ", ".join(out)


# --------------------------------------------------------------------------- the command tree

_NAME_LOCATIONS = (
    app_commands.TranslationContextLocation.command_name,
    app_commands.TranslationContextLocation.group_name,
    app_commands.TranslationContextLocation.parameter_name,
)


class CommandTranslator(app_commands.Translator):
    """Localisations of the command tree from the catalogues: for every Discord locale with a catalogue, the
    translation of each name, description and choice (English, the source, needs none). A slash name whose
    translation breaks Discord's rules is left out (logged once), so one bad catalogue entry cannot stop a sync."""

    async def translate(
        self, string: app_commands.locale_str, locale: discord.Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        lang = resolve_locale(locale.value)
        if lang == SOURCE_LOCALE or lang not in available_locales() or _is_english(locale.value):
            return None
        text = translator(lang)._(string.message)
        if text == string.message:
            return None
        if context.location in _NAME_LOCATIONS and not _slash_menu(context):
            text = text.lower()
            if not SLASH_NAME.match(text):
                log.warning("translations: %s name %r → %r breaks Discord's rules; left out", lang, string, text)
                return None
        elif len(text) > 100:
            log.warning("translations: %s text %r is over 100 characters; left out", lang, text)
            return None
        return text


def _slash_menu(context: app_commands.TranslationContextTypes) -> bool:
    """A context menu's name (it may have spaces and capitals)."""
    return isinstance(context.data, app_commands.ContextMenu)
