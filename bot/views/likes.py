"""/likes: one page of the user's ratings with a ✖ per rating (``tm:unrate:<offset>:<title id>``) and paging
(``tm:likes:prev|next:<offset>``)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import ui

from bot import embeds
from bot.i18n import ENGLISH, Translator, tr_for
from bot.views.common import TITLE_ID, ArrowItem, SafeItem, client_of, title_name
from db import queries

if TYPE_CHECKING:
    from bot.bot import Toonmatch

log = logging.getLogger(__name__)

LIKES_PER_PAGE = 10


class LikesPageButton(ArrowItem, ui.DynamicItem[ui.Button], template=r"tm:likes:(?P<dir>prev|next):(?P<at>\d{1,7})"):
    """◀ / ▶ through /likes: shows the page starting at rating ``at``."""

    PREFIX, ROW = "tm:likes", 2

    async def handle(self, interaction: discord.Interaction) -> None:
        embed, view = await likes_page(client_of(interaction), interaction.user.id, self.at, tr=tr_for(interaction))
        await interaction.response.edit_message(embed=embed, view=view)


class UnrateButton(SafeItem, ui.DynamicItem[ui.Button], template=rf"tm:unrate:(?P<offset>\d{{1,7}}):{TITLE_ID}"):
    def __init__(self, offset: int, title_id: str, n: int) -> None:
        super().__init__(
            ui.Button(
                label=str(n),
                emoji="✖️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"tm:unrate:{offset}:{title_id}",
            ),
            row=0 if (n - 1) % LIKES_PER_PAGE < 5 else 1,
        )
        self.offset, self.title_id = offset, title_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: ui.Button, match: re.Match[str]):
        n = int(item.label) if item.label and item.label.isdigit() else 1
        return cls(int(match["offset"]), match["title_id"], n)

    async def handle(self, interaction: discord.Interaction) -> None:
        client = client_of(interaction)
        await client.db.run(queries.unrate, interaction.user.id, self.title_id)
        log.info("user %s removed their rating of %s", interaction.user.id, self.title_id)
        embed, view = await likes_page(client, interaction.user.id, self.offset, tr=tr_for(interaction))
        await interaction.response.edit_message(embed=embed, view=view)


async def likes_page(
    client: Toonmatch, user_id: int, offset: int, *, tr: Translator = ENGLISH
) -> tuple[discord.Embed, ui.View | None]:
    """One page of the user's ratings, newest first, with a remove button per rating and paging."""
    page = await client.db.run(queries.ratings_page, user_id, limit=LIKES_PER_PAGE, offset=offset)
    offset = page.offset
    names = {e.title_id: title_name(client, e.title_id, tr) for e in page.items}
    embed = embeds.likes(page, names, tr=tr)
    if not page.items:
        return embed, None
    view = ui.View(timeout=None)
    for n, entry in enumerate(page.items, start=offset + 1):
        view.add_item(UnrateButton(offset, entry.title_id, n))
    if page.total > LIKES_PER_PAGE:
        view.add_item(LikesPageButton("prev", max(0, offset - LIKES_PER_PAGE), disabled=offset == 0))
        view.add_item(LikesPageButton("next", offset + LIKES_PER_PAGE, disabled=not page.has_more))
    return embed, view
