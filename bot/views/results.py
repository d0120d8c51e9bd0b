"""An answer's results under its message: the ``tm:pick`` select (opens a title card), 👍 / 👎 rows for one page of
results and paging (``tm:page:prev|next:<page>``, ``tm:pos:<page>``), all redrawn from the message alone."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from typing import Any

import discord
from discord import ui

from bot import embeds
from bot.i18n import ENGLISH, Translator, tr_for
from bot.views.common import ArrowItem, SafeItem, client_of
from bot.views.rating import RateButton, title_card
from db import queries

RESULTS_PER_PAGE = 5


@dataclass(frozen=True)
class Entry:
    """One result of an answer as the message carries it: number (as on the contact sheet), title id, label."""

    n: int
    title_id: str
    label: str
    description: str | None = None


def entries_of(answer_results: list[Any], *, tr: Translator = ENGLISH) -> list[Entry]:
    """Entries of an answer's results (numbered from 1 as on the contact sheet), in the reader's language."""
    out = []
    for n, r in enumerate(answer_results, start=1):
        detail = tr._("{percent} similar", percent=embeds.pct(r.similarity))
        if r.reason:
            detail += f" · {embeds.reason_text(r.reason, tr)}"
        out.append(Entry(n, r.title.id, embeds.clip(f"{n}. {tr.title(r.title)}", 100), embeds.clip(detail, 100)))
    return out


class PickSelect(SafeItem, ui.DynamicItem[ui.Select], template=r"tm:pick"):
    """Lists the answer's results; choosing one opens its card (with rating buttons) for the chooser only."""

    def __init__(
        self,
        entries: list[Entry] | None = None,
        *,
        options: list[discord.SelectOption] | None = None,
        placeholder: str | None = None,
        tr: Translator = ENGLISH,
    ):
        if options is None:
            options = [
                discord.SelectOption(label=e.label, value=e.title_id, description=e.description) for e in entries or []
            ]
        placeholder = placeholder or tr._("Pick a result to see it and rate it…")
        super().__init__(ui.Select(custom_id="tm:pick", placeholder=placeholder, options=options), row=0)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: ui.Select, match: re.Match[str]):
        return cls(options=list(item.options), placeholder=item.placeholder)

    async def handle(self, interaction: discord.Interaction) -> None:
        client = client_of(interaction)
        title_id = self.item.values[0]
        rating = await client.db.run(queries.get_rating, interaction.user.id, title_id)
        embed, view = title_card(client, title_id, rating, tr=tr_for(interaction))
        file = None
        if client.recommender is not None:  # the cover as a thumbnail (None if the title or its cover is gone)
            data = await client.recommender.cover_thumbnail(title_id)
            if data is not None:
                file = discord.File(io.BytesIO(data), "cover.webp")
                embed.set_thumbnail(url="attachment://cover.webp")
        kwargs = {"file": file} if file is not None else {}
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True, **kwargs)


class PageButton(ArrowItem, ui.DynamicItem[ui.Button], template=r"tm:page:(?P<dir>prev|next):(?P<at>\d{1,3})"):
    """◀ / ▶ through an answer's results: redraws the rating rows for page ``at`` (from the message alone)."""

    PREFIX, ROW = "tm:page", 3

    async def handle(self, interaction: discord.Interaction) -> None:
        entries = entries_from_message(interaction.message)
        placeholder = placeholder_of(interaction.message)
        await interaction.response.edit_message(view=answer_view(entries, self.at, placeholder=placeholder))


class PageLabel(ui.DynamicItem[ui.Button], template=r"tm:pos:(?P<page>\d{1,3})"):
    """The disabled "2 / 5" between the paging buttons (dynamic only so that it is never kept in memory)."""

    def __init__(self, page: int, pages: int) -> None:
        super().__init__(
            ui.Button(
                label=f"{page + 1} / {pages}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"tm:pos:{page}",
                disabled=True,
            ),
            row=3,
        )

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: ui.Button, match: re.Match[str]):
        return cls(int(match["page"]), 1)


def answer_view(
    entries: list[Entry],
    page: int = 0,
    *,
    per_page: int = RESULTS_PER_PAGE,
    tr: Translator = ENGLISH,
    placeholder: str | None = None,
) -> ui.View | None:
    """Select of all results (row 0), 👍 and 👎 for the page's results (rows 1–2), paging (row 3). The message's
    language stays the asker's: a redraw keeps the select's placeholder (``placeholder``)."""
    if not entries:
        return None
    pages = max(1, math.ceil(len(entries) / per_page))
    page = min(max(page, 0), pages - 1)
    view = ui.View(timeout=None)
    view.add_item(PickSelect(entries, placeholder=placeholder, tr=tr))
    shown = entries[page * per_page : (page + 1) * per_page]
    for e in shown:
        view.add_item(RateButton(e.title_id, 1, label=str(e.n), row=1))
    for e in shown:
        view.add_item(RateButton(e.title_id, -1, label=str(e.n), row=2))
    if pages > 1:
        view.add_item(PageButton("prev", max(page - 1, 0), disabled=page == 0))
        view.add_item(PageLabel(page, pages))
        view.add_item(PageButton("next", min(page + 1, pages - 1), disabled=page >= pages - 1))
    return view


def placeholder_of(message: discord.Message | None) -> str | None:
    """The placeholder of the message's ``tm:pick`` select (in the language the answer was written in)."""
    for row in message.components if message is not None else []:
        for comp in getattr(row, "children", [row]):
            if getattr(comp, "custom_id", None) == "tm:pick":
                return getattr(comp, "placeholder", None)
    return None


def entries_from_message(message: discord.Message | None) -> list[Entry]:
    """The results an answer message carries in its ``tm:pick`` select."""
    if message is None:
        return []
    for row in message.components:
        for comp in getattr(row, "children", [row]):
            if getattr(comp, "custom_id", None) == "tm:pick":
                out = []
                for i, opt in enumerate(comp.options, start=1):
                    head = opt.label.split(".", 1)[0]
                    n = int(head) if head.isdigit() else i
                    out.append(Entry(n, opt.value, opt.label, opt.description))
                return out
    return []
