"""/recommend: webtoons drawn like a title the user names (fuzzy autocomplete in Korean and English)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import answers, checks, embeds, prefs
from bot.bot import Toonmatch
from bot.errors import AdultContentError
from bot.i18n import ENGLISH, N_, Translator, tr_for
from core.i18n import Msg
from ml.serve import TITLES_PER_ANSWER

log = logging.getLogger(__name__)

MAX_CHOICES = 25
ADULT_REFUSAL = Msg("🔞 That title is for adults; ask for it in an age-restricted channel.")
ADULT_OFF_HERE = Msg("🔞 That title is for adults, and this server hasn't allowed adult titles (`/settings adult`).")


class Recommend(commands.Cog):
    def __init__(self, bot: Toonmatch) -> None:
        self.bot = bot

    @app_commands.command(name=N_("recommend"), description=N_("Find webtoons drawn like a title you know"))
    @app_commands.rename(title=N_("title"), private=N_("private"))
    @app_commands.describe(
        title=N_("A webtoon title (Korean or English); pick one of the suggestions"),
        private=N_("Answer only to you (default: the server's choice, public unless set)"),
    )
    @checks.heavy_cooldown()
    async def recommend(
        self, interaction: discord.Interaction, title: app_commands.Range[str, 1, 100], private: bool | None = None
    ) -> None:
        recommender = self.bot.require_recommender()
        found = recommender.resolve(title)  # unknown/ambiguous: an ephemeral refusal with the closest titles
        nsfw = await prefs.adult_here(interaction)  # an age-restricted channel of a server that allows them
        if found.adult and not nsfw:
            raise AdultContentError(ADULT_REFUSAL if not checks.is_nsfw(interaction) else ADULT_OFF_HERE)
        private = await prefs.answers_private(self.bot, interaction, private)
        await checks.defer(interaction, private=private)
        taste = await self.bot.taste_of(interaction.user.id)
        answer = await recommender.recommend(found.id, k=TITLES_PER_ANSWER, taste=taste, allow_adult=nsfw)
        tr = tr_for(interaction)
        heading = tr._("Drawn like {title}", title=tr.title(found))
        await answers.send_answer(self.bot, interaction, answer, heading=heading, private=private, tr=tr)

    @recommend.autocomplete("title")
    async def title_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice]:
        """≤ 25 fuzzy matches (Korean, English, alternate titles, authors); value = the title id. Runs inline:
        rapidfuzz scores a catalogue in a few milliseconds and autocomplete must answer fast, even when the
        recommender's worker threads are busy."""
        try:
            return self.choices(current, nsfw=await prefs.adult_here(interaction), tr=tr_for(interaction))
        except Exception:
            log.exception("interaction %s: autocomplete failed for %r", interaction.id, current)
            return []

    def choices(self, current: str, *, nsfw: bool, tr: Translator = ENGLISH) -> list[app_commands.Choice[str]]:
        """Matches of what was typed in either name (whatever the reader's language), each shown as the reader knows
        the title (its other name in brackets)."""
        recommender = self.bot.recommender
        if recommender is None:
            return []
        titles = recommender.titles
        if current.strip():
            ids = [m.title_id for m in recommender.search(current, MAX_CHOICES * 2)]
        else:  # nothing typed yet: the best-known titles
            ids = sorted(titles, key=lambda t: (titles[t].popularity_rank or 10**9, titles[t].title))
        seen = set()
        out = []
        for tid in ids:
            title = titles[tid]
            if title.adult and not nsfw or tid in seen:
                continue
            seen.add(tid)
            out.append(app_commands.Choice(name=embeds.clip(choice_name(title, tr), 100), value=tid))
            if len(out) == MAX_CHOICES:
                break
        return out


def choice_name(title, tr: Translator) -> str:
    """An autocomplete suggestion: the title as the reader knows it, then its other name."""
    other = tr.other_title(title)
    return f"{tr.title(title)} / {other}" if other else tr.title(title)


async def setup(bot: Toonmatch) -> None:
    await bot.add_cog(Recommend(bot))
