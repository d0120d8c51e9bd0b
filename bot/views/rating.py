"""👍 / 👎 on a title (``tm:rate:up|down:<title id>``) and the title card with them (``tm:ratec:…``)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import ui

from bot import embeds
from bot.i18n import ENGLISH, Translator, tr_for
from bot.views.common import (
    TITLE_ID,
    SafeItem,
    client_of,
    refuse_removed,
    refuse_unless_asker,
    title_name,
    title_of,
)
from db import queries

if TYPE_CHECKING:
    from bot.bot import Toonmatch
    from ml.serve.results import Result

log = logging.getLogger(__name__)

UP, DOWN = "👍", "👎"


def rate_custom_id(title_id: str, value: int, *, card: bool = False) -> str:
    return f"tm:rate{'c' if card else ''}:{'up' if value > 0 else 'down'}:{title_id}"


class RateButton(SafeItem, ui.DynamicItem[ui.Button], template=rf"tm:rate(?P<card>c?):(?P<value>up|down):{TITLE_ID}"):
    """👍 / 👎 for one title: toggles the clicker's rating (clicking the same again removes it). Under an answer only
    its asker may click (anyone under a discovery post, which has no asker)."""

    def __init__(
        self,
        title_id: str,
        value: int,
        *,
        label: str | None = None,
        card: bool = False,
        active: bool = False,
        row: int | None = None,
    ) -> None:
        style = (discord.ButtonStyle.success if value > 0 else discord.ButtonStyle.danger) if active else None
        super().__init__(
            ui.Button(
                label=label,
                emoji=UP if value > 0 else DOWN,
                style=style or discord.ButtonStyle.secondary,
                custom_id=rate_custom_id(title_id, value, card=card),
            ),
            row=row,
        )
        self.title_id, self.value, self.card = title_id, value, card

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: ui.Button, match: re.Match[str]):
        value = 1 if match["value"] == "up" else -1
        button = cls(match["title_id"], value, label=item.label, card=bool(match["card"]))
        button.item.style = item.style
        return button

    async def handle(self, interaction: discord.Interaction) -> None:
        if not self.card and not await refuse_unless_asker(interaction):  # an answer's buttons are its asker's
            return
        client = client_of(interaction)
        refuse_removed(client, self.title_id)
        state = await client.db.run(
            queries.toggle, interaction.user.id, self.title_id, self.value, interaction.guild_id
        )
        log.info("user %s rated %s: %+d", interaction.user.id, self.title_id, state)
        tr = tr_for(interaction)
        if self.card:
            embed, view = title_card(client, self.title_id, state, tr=tr)
            if interaction.message is not None and any(
                a.filename == "cover.webp" for a in interaction.message.attachments
            ):
                embed.set_thumbnail(url="attachment://cover.webp")
            await interaction.response.edit_message(embed=embed, view=view)
            return
        name = title_name(client, self.title_id, tr)
        await interaction.response.send_message(embeds.rating_feedback(name, self.value, state, tr=tr), ephemeral=True)


def title_card(
    client: Toonmatch, title_id: str, rating: int, *, tr: Translator = ENGLISH
) -> tuple[discord.Embed, ui.View]:
    """(embed, view) of one title with the viewer's 👍 / 👎 state, in the viewer's language."""
    title = title_of(client, title_id)
    embed = embeds.title_card(title, title_id, rating, tr=tr)
    view = ui.View(timeout=None)
    view.add_item(RateButton(title_id, 1, label=tr._("Like"), card=True, active=rating > 0))
    view.add_item(RateButton(title_id, -1, label=tr._("Not for me"), card=True, active=rating < 0))
    if title is not None and title.page_url:
        view.add_item(ui.Button(label=tr._("Read"), url=title.page_url, style=discord.ButtonStyle.link))
    return embed, view


def rating_rows(results: list[Result], *, tr: Translator = ENGLISH) -> ui.View:
    """One row per result: 👍 labelled "n. title" and 👎 (discovery posts)."""
    view = ui.View(timeout=None)
    for n, r in enumerate(results, start=1):
        view.add_item(RateButton(r.title.id, 1, label=embeds.clip(f"{n}. {tr.title(r.title)}", 60), row=n - 1))
        view.add_item(RateButton(r.title.id, -1, row=n - 1))
    return view
