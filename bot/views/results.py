"""An answer's controls: the ``tm:pick:<asker>`` select (all results; choosing one opens its card), 👍 / 👎 for the
shown page of results, paging (``tm:page:prev|next:<page>``, ``tm:pos:<page>``) and 🗑 (``tm:del``).

Everything is redrawn from the message alone: the select lists every result (number, title id, name, score and
reason), so a page click re-renders the results field of the embed and the rating rows, even after a restart. The
asker's id lives once in the select's custom id; every control of the answer is the asker's only
(:func:`refuse_unless_asker`). Answers posted before the asker was recorded (``tm:pick``) stay open to everyone.
"""

from __future__ import annotations

import io
import logging
import math
import re
from dataclasses import dataclass

import discord
from discord import ui

from bot import embeds
from bot.i18n import ENGLISH, Translator, tr_for
from bot.views.common import (
    PICK,
    ArrowItem,
    SafeItem,
    asker_of,
    client_of,
    pick_select,
    refuse_removed,
    refuse_unless_asker,
    title_of,
)
from bot.views.rating import RateButton, title_card
from db import queries
from ml.serve.results import Result

log = logging.getLogger(__name__)

RESULTS_PER_PAGE = 5
_SCORE = re.compile(r"^(?P<pct>\d{1,3})%")


@dataclass(frozen=True)
class Entry:
    """One result of an answer as the message carries it (an option of the pick select)."""

    n: int
    title_id: str
    name: str
    similarity: float
    reason: str | None = None

    @property
    def label(self) -> str:
        return embeds.clip(f"{self.n}. {self.name}", 100)

    def description(self, tr: Translator = ENGLISH) -> str:
        """ "87% similar · same author": the score first in every language (:meth:`from_option` reads it back)."""
        detail = tr._("{percent} similar", percent=embeds.pct(self.similarity))
        return embeds.clip(f"{detail} · {self.reason}" if self.reason else detail, 100)

    def option(self, tr: Translator = ENGLISH) -> discord.SelectOption:
        return discord.SelectOption(label=self.label, value=self.title_id, description=self.description(tr))

    @classmethod
    def from_option(cls, option: discord.SelectOption, position: int) -> Entry:
        head, _, name = option.label.partition(". ")
        n = int(head) if head.isdigit() and name else position
        detail = option.description or ""
        score = _SCORE.match(detail)
        _, _, reason = detail.partition(" · ")
        return cls(n, option.value, name or option.label, int(score["pct"]) / 100 if score else 0.0, reason or None)


def entries_of(results: list[Result], *, tr: Translator = ENGLISH) -> list[Entry]:
    """Entries of an answer's results (numbered from 1 as on the contact sheet), names and reasons in the reader's
    language."""
    return [
        Entry(n, r.title.id, tr.title(r.title), r.similarity, embeds.reason_text(r.reason, tr))
        for n, r in enumerate(results, start=1)
    ]


def entry_lines(client, entries: list[Entry]) -> list[embeds.Line]:
    """What the embed lists for ``entries``, with the titles' current catalogue entries (links, names)."""
    return [embeds.Line(e.n, e.name, e.similarity, e.reason, title_of(client, e.title_id)) for e in entries]


# --------------------------------------------------------------------------- the items


class PickSelect(SafeItem, ui.DynamicItem[ui.Select], template=r"tm:pick(?::(?P<asker>\d{1,20}))?"):
    """Lists the answer's results; choosing one opens its card (with rating buttons) for the asker only."""

    def __init__(
        self, options: list[discord.SelectOption], asker: int | None = None, *, tr: Translator = ENGLISH
    ) -> None:
        custom_id = f"{PICK}:{asker}" if asker is not None else PICK
        placeholder = tr.ngettext(
            "{n} result · pick it to see it and rate it…",
            "All {n} results · pick one to see it and rate it…",
            len(options),
        )
        super().__init__(ui.Select(custom_id=custom_id, placeholder=placeholder, options=options), row=0)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: ui.Select, match: re.Match[str]):
        return cls(list(item.options), int(match["asker"]) if match["asker"] else None)

    async def handle(self, interaction: discord.Interaction) -> None:
        if not await refuse_unless_asker(interaction):
            return
        client = client_of(interaction)
        title_id = self.item.values[0]
        refuse_removed(client, title_id)
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
    """◀ / ▶ through an answer's results: redraws the results field and the rating rows for page ``at``."""

    PREFIX, ROW = "tm:page", 3

    async def handle(self, interaction: discord.Interaction) -> None:
        if not await refuse_unless_asker(interaction):
            return
        message = interaction.message
        entries = entries_from_message(message)
        tr = tr_for(interaction)  # the asker's (only the asker may page): the redraw stays in their language
        view = answer_view(entries, self.at, asker=asker_of(message), deletable=_deletable(message), tr=tr)
        kwargs = {}
        if message is not None and message.embeds:
            kwargs["embed"] = redrawn(client_of(interaction), message, entries, self.at, tr=tr)
        await interaction.response.edit_message(view=view, **kwargs)


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


class DeleteButton(SafeItem, ui.DynamicItem[ui.Button], template=r"tm:del"):
    """🗑 under a public answer: deletes it, for the asker and for members who can manage messages."""

    def __init__(self) -> None:
        super().__init__(
            ui.Button(emoji="🗑️", style=discord.ButtonStyle.secondary, custom_id="tm:del"),
            row=3,
        )

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: ui.Button, match: re.Match[str]):
        return cls()

    async def handle(self, interaction: discord.Interaction) -> None:
        asker = asker_of(interaction.message)
        moderator = interaction.permissions.manage_messages
        if not moderator and asker != interaction.user.id:
            tr = tr_for(interaction)
            owner = f"<@{asker}>" if asker is not None else tr._("the person who asked")
            await interaction.response.send_message(tr._(embeds.CANNOT_DELETE, owner=owner), ephemeral=True)
            return
        await interaction.response.defer()  # a component's "original response" is its own message
        await interaction.delete_original_response()
        log.info("interaction %s: answer deleted by %s", interaction.id, "a moderator" if moderator else "its asker")


# --------------------------------------------------------------------------- drawing


def answer_view(
    entries: list[Entry],
    page: int = 0,
    *,
    asker: int | None,
    deletable: bool,
    per_page: int = RESULTS_PER_PAGE,
    tr: Translator = ENGLISH,
) -> ui.View | None:
    """Select of all results (row 0), 👍 and 👎 for the page's results (rows 1–2), paging and 🗑 (row 3), in the
    asker's language (``tr``)."""
    if not entries:
        return None
    pages = max(1, math.ceil(len(entries) / per_page))
    page = min(max(page, 0), pages - 1)
    view = ui.View(timeout=None)
    view.add_item(PickSelect([e.option(tr) for e in entries], asker, tr=tr))
    shown = entries[page * per_page : (page + 1) * per_page]
    for e in shown:
        view.add_item(RateButton(e.title_id, 1, label=str(e.n), row=1))
    for e in shown:
        view.add_item(RateButton(e.title_id, -1, label=str(e.n), row=2))
    if pages > 1:
        view.add_item(PageButton("prev", max(page - 1, 0), disabled=page == 0))
        view.add_item(PageLabel(page, pages))
        view.add_item(PageButton("next", min(page + 1, pages - 1), disabled=page >= pages - 1))
    if deletable:
        view.add_item(DeleteButton())
    return view


def redrawn(
    client, message: discord.Message, entries: list[Entry], page: int, *, tr: Translator = ENGLISH
) -> discord.Embed:
    """The message's answer embed showing page ``page``; its contact sheet stays the message's attachment."""
    embed = message.embeds[0].copy()
    embeds.results_page(embed, entry_lines(client, entries), page, per_page=RESULTS_PER_PAGE, tr=tr)
    sheet = next((a.filename for a in message.attachments if a.filename.startswith("toonmatch.")), None)
    if sheet is not None:
        embed.set_image(url=f"attachment://{sheet}")
    return embed


def _deletable(message: discord.Message | None) -> bool:
    return message is not None and not message.flags.ephemeral


def entries_from_message(message: discord.Message | None) -> list[Entry]:
    """The results an answer message carries in its pick select."""
    select = pick_select(message)
    return [Entry.from_option(opt, i) for i, opt in enumerate(select.options, start=1)] if select is not None else []
