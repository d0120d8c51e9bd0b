"""Buttons and selects: all persistent (:class:`discord.ui.DynamicItem`), their state in the ``custom_id``.

Nothing is kept in memory per message, so every button keeps working after the bot restarts and views never pile
up in discord.py's view store:

* ``tm:rate:up:<title id>`` / ``tm:rate:down:<title id>`` — rate a title (answers, discovery posts);
  ``tm:ratec:…`` the same on a title card (the card is redrawn to show the new state).
* ``tm:pick`` — the select listing an answer's results (value: title id); choosing one opens its card. The
  select also carries the answer's results, so paging (``tm:page:prev|next:<page>``) can redraw the rating rows
  from the message alone.
* ``tm:likes:prev|next:<offset>``, ``tm:unrate:<offset>:<title id>`` — /likes paging and remove buttons.
* ``tm:forget:confirm|export|cancel:<user id>`` — the /forget-me confirmation.
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
from discord import ui

from bot import embeds, errors
from db import queries

if TYPE_CHECKING:
    from bot.bot import Toonmatch
    from catalog.format import Title

log = logging.getLogger(__name__)

RESULTS_PER_PAGE = 5
LIKES_PER_PAGE = 10
TITLE_ID = r"(?P<title_id>[^\s]{1,80})"
UP, DOWN = "👍", "👎"


def _client(interaction: discord.Interaction) -> Toonmatch:
    return interaction.client  # type: ignore[return-value]


class SafeItem:
    """Mixin: run :meth:`handle` and send any failure through the one error handler (discord.py would only log
    it, leaving the user with "This interaction failed")."""

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.handle(interaction)  # type: ignore[attr-defined]
        except Exception as exc:
            await errors.report(interaction, exc)


# --------------------------------------------------------------------------- rating


def rate_custom_id(title_id: str, value: int, *, card: bool = False) -> str:
    return f"tm:rate{'c' if card else ''}:{'up' if value > 0 else 'down'}:{title_id}"


class RateButton(SafeItem, ui.DynamicItem[ui.Button], template=rf"tm:rate(?P<card>c?):(?P<value>up|down):{TITLE_ID}"):
    """👍 / 👎 for one title: toggles the clicker's rating (clicking the same again removes it)."""

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
        client = _client(interaction)
        state = await client.db.run(
            queries.toggle, interaction.user.id, self.title_id, self.value, interaction.guild_id
        )
        log.info("user %s rated %s: %+d", interaction.user.id, self.title_id, state)
        if self.card:
            embed, view = title_card(client, self.title_id, state)
            if interaction.message is not None and any(
                a.filename == "cover.webp" for a in interaction.message.attachments
            ):
                embed.set_thumbnail(url="attachment://cover.webp")
            await interaction.response.edit_message(embed=embed, view=view)
            return
        name = title_name(client, self.title_id)
        await interaction.response.send_message(embeds.rating_feedback(name, self.value, state), ephemeral=True)


# --------------------------------------------------------------------------- answer (results) view


@dataclass(frozen=True)
class Entry:
    """One result of an answer as the message carries it: number (as on the contact sheet), title id, label."""

    n: int
    title_id: str
    label: str
    description: str | None = None


def entries_of(answer_results: list[Any]) -> list[Entry]:
    """Entries of an engine answer's results (numbered from 1 as on the contact sheet)."""
    out = []
    for n, r in enumerate(answer_results, start=1):
        detail = f"{r.similarity * 100:.0f}% similar"
        if r.reason:
            detail += f" · {r.reason}"
        out.append(Entry(n, r.title.id, embeds.clip(f"{n}. {r.title.title}", 100), embeds.clip(detail, 100)))
    return out


class PickSelect(SafeItem, ui.DynamicItem[ui.Select], template=r"tm:pick"):
    """Lists the answer's results; choosing one opens its card (with rating buttons) for the chooser only."""

    def __init__(self, entries: list[Entry] | None = None, *, options: list[discord.SelectOption] | None = None):
        if options is None:
            options = [
                discord.SelectOption(label=e.label, value=e.title_id, description=e.description) for e in entries or []
            ]
        super().__init__(
            ui.Select(custom_id="tm:pick", placeholder="Pick a result to see it and rate it…", options=options),
            row=0,
        )

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: ui.Select, match: re.Match[str]):
        select = cls(options=list(item.options))
        return select

    async def handle(self, interaction: discord.Interaction) -> None:
        client = _client(interaction)
        title_id = self.item.values[0]
        rating = await client.db.run(queries.get_rating, interaction.user.id, title_id)
        embed, view = title_card(client, title_id, rating)
        file = None
        if client.recommender is not None:  # the cover as a thumbnail (None if the title or its cover is gone)
            data = await client.recommender.cover_thumbnail(title_id)
            if data is not None:
                file = discord.File(io.BytesIO(data), "cover.webp")
                embed.set_thumbnail(url="attachment://cover.webp")
        kwargs = {"file": file} if file is not None else {}
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True, **kwargs)


class PageButton(SafeItem, ui.DynamicItem[ui.Button], template=r"tm:page:(?P<dir>prev|next):(?P<page>\d{1,3})"):
    """◀ / ▶ through an answer's results: redraws the rating rows for that page (from the message alone)."""

    def __init__(self, direction: str, page: int, *, disabled: bool = False) -> None:
        super().__init__(
            ui.Button(
                emoji="◀️" if direction == "prev" else "▶️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"tm:page:{direction}:{page}",
                disabled=disabled,
            ),
            row=3,
        )
        self.page = page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: ui.Button, match: re.Match[str]):
        return cls(match["dir"], int(match["page"]))

    async def handle(self, interaction: discord.Interaction) -> None:
        entries = entries_from_message(interaction.message)
        await interaction.response.edit_message(view=answer_view(entries, self.page))


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


def answer_view(entries: list[Entry], page: int = 0, *, per_page: int = RESULTS_PER_PAGE) -> ui.View | None:
    """Select of all results (row 0), 👍 and 👎 for the page's results (rows 1–2), paging (row 3)."""
    if not entries:
        return None
    pages = max(1, math.ceil(len(entries) / per_page))
    page = min(max(page, 0), pages - 1)
    view = ui.View(timeout=None)
    view.add_item(PickSelect(entries))
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


# --------------------------------------------------------------------------- title card


def _title(client: Toonmatch, title_id: str) -> Title | None:
    """The catalogue entry of ``title_id`` (``None`` without a recommender or once the title left the catalogue)."""
    return client.recommender.titles.get(title_id) if client.recommender is not None else None


def title_name(client: Toonmatch, title_id: str) -> str:
    title = _title(client, title_id)
    return title.title if title is not None else title_id


def title_card(client: Toonmatch, title_id: str, rating: int) -> tuple[discord.Embed, ui.View]:
    """(embed, view) of one title with the viewer's 👍 / 👎 state."""
    title = _title(client, title_id)
    embed = embeds.title_card(title, title_id, rating)
    view = ui.View(timeout=None)
    view.add_item(RateButton(title_id, 1, label="Like", card=True, active=rating > 0))
    view.add_item(RateButton(title_id, -1, label="Not for me", card=True, active=rating < 0))
    if title is not None and title.url:
        view.add_item(ui.Button(label="Read", url=title.url, style=discord.ButtonStyle.link))
    return embed, view


# --------------------------------------------------------------------------- /likes


class LikesPageButton(SafeItem, ui.DynamicItem[ui.Button], template=r"tm:likes:(?P<dir>prev|next):(?P<offset>\d{1,7})"):
    def __init__(self, direction: str, offset: int, *, disabled: bool = False) -> None:
        super().__init__(
            ui.Button(
                emoji="◀️" if direction == "prev" else "▶️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"tm:likes:{direction}:{offset}",
                disabled=disabled,
            ),
            row=2,
        )
        self.offset = offset

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: ui.Button, match: re.Match[str]):
        return cls(match["dir"], int(match["offset"]))

    async def handle(self, interaction: discord.Interaction) -> None:
        embed, view = await likes_page(_client(interaction), interaction.user.id, self.offset)
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
        client = _client(interaction)
        await client.db.run(queries.unrate, interaction.user.id, self.title_id)
        log.info("user %s removed their rating of %s", interaction.user.id, self.title_id)
        embed, view = await likes_page(client, interaction.user.id, self.offset)
        await interaction.response.edit_message(embed=embed, view=view)


async def likes_page(client: Toonmatch, user_id: int, offset: int) -> tuple[discord.Embed, ui.View | None]:
    """One page of the user's ratings, newest first, with a remove button per rating and paging."""
    page = await client.db.run(queries.list_ratings, user_id, limit=LIKES_PER_PAGE, offset=max(0, offset))
    if not page.items and page.total and offset > 0:  # the last rating of the last page was removed
        offset = max(0, (page.total - 1) // LIKES_PER_PAGE * LIKES_PER_PAGE)
        page = await client.db.run(queries.list_ratings, user_id, limit=LIKES_PER_PAGE, offset=offset)
    names = {e.title_id: title_name(client, e.title_id) for e in page.items}
    embed = embeds.likes(page, names)
    if not page.items:
        return embed, None
    view = ui.View(timeout=None)
    for n, entry in enumerate(page.items, start=offset + 1):
        view.add_item(UnrateButton(offset, entry.title_id, n))
    if page.total > LIKES_PER_PAGE:
        view.add_item(LikesPageButton("prev", max(0, offset - LIKES_PER_PAGE), disabled=offset == 0))
        view.add_item(LikesPageButton("next", offset + LIKES_PER_PAGE, disabled=not page.has_more))
    return embed, view


# --------------------------------------------------------------------------- /forget-me


class ForgetButton(
    SafeItem, ui.DynamicItem[ui.Button], template=r"tm:forget:(?P<action>confirm|export|cancel):(?P<user_id>\d{1,20})"
):
    LOOKS = {
        "confirm": ("Delete everything", "🗑️", discord.ButtonStyle.danger),
        "export": ("Download my data first", "📄", discord.ButtonStyle.secondary),
        "cancel": ("Cancel", None, discord.ButtonStyle.secondary),
    }

    def __init__(self, action: str, user_id: int) -> None:
        label, emoji, style = self.LOOKS[action]
        super().__init__(ui.Button(label=label, emoji=emoji, style=style, custom_id=f"tm:forget:{action}:{user_id}"))
        self.action, self.user_id = action, user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: ui.Button, match: re.Match[str]):
        return cls(match["action"], int(match["user_id"]))

    async def handle(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            raise errors.NotYourButtonError("These buttons belong to someone else's /forget-me.")
        client = _client(interaction)
        if self.action == "cancel":
            await interaction.response.edit_message(content="Cancelled — nothing was deleted.", embed=None, view=None)
        elif self.action == "export":
            data = await client.db.run(queries.export_user, self.user_id)
            blob = json.dumps(data, ensure_ascii=False, indent=2).encode()
            file = discord.File(io.BytesIO(blob), f"toonmatch-data-{self.user_id}.json")
            await interaction.response.send_message(
                "📄 Everything Toonmatch stores about you:", file=file, ephemeral=True
            )
        else:
            deleted = await client.db.run(queries.forget_user, self.user_id)
            log.info("user %s asked to be forgotten: %d rows deleted", self.user_id, deleted)
            await interaction.response.edit_message(content=embeds.forgotten(deleted), embed=None, view=None)


def forget_view(user_id: int) -> ui.View:
    view = ui.View(timeout=None)
    for action in ("confirm", "export", "cancel"):
        view.add_item(ForgetButton(action, user_id))
    return view


DYNAMIC_ITEMS = (RateButton, PickSelect, PageButton, PageLabel, LikesPageButton, UnrateButton, ForgetButton)
