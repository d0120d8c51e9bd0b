"""Every embed and every user-visible sentence of the bot (one place for wording, limits and colours)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import discord
from discord.utils import escape_markdown, format_dt

from catalog.format import Title
from db.queries import GuildPrefs, RatingPage
from ml.serve import TITLES_PER_ANSWER
from ml.serve.results import Answer, GenreGuess, Result

BRAND = discord.Colour(0x00C73C)  # webtoon green
WARN = discord.Colour(0xF0A020)
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
DEMO_NOTE = "[DEMO] synthetic catalogue — titles and covers are generated"
NOT_A_DRAWING = (
    "🖼️ This doesn't look much like a drawing (a photo, text or a blank picture?): the titles below are the nearest "
    "styles, but may be loose matches."
)
NOT_YOURS = (
    "🙅 Only {owner} can use this answer's buttons. Ask for your own: `/similar` with a picture, `/recommend` with "
    "a title, or right-click a message with a picture → Apps → *Find similar webtoons*."
)
CANNOT_DELETE = "🙅 Only {owner} or a member who can manage messages can delete this answer."
UPLOAD_LEFT_OUT = (
    "🙈 I left the image out of the picture because it looks explicit and this channel isn't age-restricted. "
    "Here are the titles anyway."
)


def clip(text: str, limit: int, *, oneline: bool = True) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (whitespace collapsed unless ``oneline`` is false)."""
    text = " ".join(str(text).split()) if oneline else str(text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def genre_name(genre: str) -> str:
    return genre.replace("_", " ")


def pct(p: float) -> str:
    return f"{max(0.0, min(1.0, float(p))) * 100:.0f}%"


def _name(title: Title, limit: int = 60, *, in_link: bool = False) -> str:
    name = clip(_plain(title), limit)
    if in_link:  # brackets would end the masked link's text early
        name = name.replace("[", "⁅").replace("]", "⁆")
    return escape_markdown(name)


def _linked(title: Title, limit: int = 60, *, link: bool = True) -> str:
    if link and title.page_url:
        return f"[{_name(title, limit, in_link=True)}]({title.page_url})"
    return f"**{_name(title, limit)}**"


def genre_line(guesses: Sequence[GenreGuess]) -> str:
    return " · ".join(f"**{escape_markdown(genre_name(g.genre))}** {pct(g.probability)}" for g in guesses)


@dataclass(frozen=True)
class Line:
    """One result as an answer lists it: its number on the contact sheet, the title (``None`` once it left the
    catalogue: ``name`` is shown instead), the similarity (0–1) and why it was chosen."""

    n: int
    name: str
    similarity: float
    reason: str | None = None
    title: Title | None = None


def lines_of(results: Sequence[Result]) -> list[Line]:
    return [Line(n, r.title.title, r.similarity, r.reason, r.title) for n, r in enumerate(results, start=1)]


def result_lines(lines: Sequence[Line], *, link: bool = True, name_limit: int = 60) -> list[str]:
    out = []
    for line in lines:
        if line.title is not None:
            name = _linked(line.title, name_limit, link=link)
        else:  # gone from the catalogue since the answer was sent
            name = f"**{escape_markdown(clip(line.name, name_limit))}**"
        text = f"`{line.n:>2}` {name} · {pct(line.similarity)}"
        if line.reason:
            text += f" — *{escape_markdown(line.reason)}*"
        out.append(text)
    return out


def _fit(lines: Sequence[Line], limit: int = FIELD_LIMIT) -> str:
    """The numbered results, shortened (no English title, then no links) until they fit."""
    for link, name_limit in ((True, 60), (True, 32), (False, 40), (False, 24)):
        text = "\n".join(result_lines(lines, link=link, name_limit=name_limit))
        if len(text) <= limit:
            return text
    return clip(text, limit, oneline=False)


def results_page(embed: discord.Embed, lines: Sequence[Line], page: int, *, per_page: int) -> discord.Embed:
    """``embed`` showing page ``page`` of ``lines`` (its results field replaced; the rest of the answer kept)."""
    shown = lines[page * per_page : (page + 1) * per_page]
    embed.clear_fields()
    if shown:
        name = f"Closest styles · {shown[0].n}–{shown[-1].n} of {len(lines)}" if len(lines) > 1 else "Closest style"
        embed.add_field(name=name, value=_fit(shown), inline=False)
    return embed


def answer(
    ans: Answer,
    *,
    heading: str,
    synthetic: bool,
    image_name: str | None,
    per_page: int,
    query_note: str | None = None,
) -> discord.Embed:
    """The answer of /similar, /recommend and "Find similar webtoons", phone-sized: the genre line and notes, the
    first ``per_page`` results (numbered as on the contact sheet, linked, with scores and "because you liked …"),
    the contact sheet with all of them as the image. The pager redraws the results with :func:`results_page`."""
    head = []
    if ans.source is not None:
        listed = " · ".join(f"**{escape_markdown(genre_name(g))}**" for g in ans.source.genres) or "not listed"
        head.append(f"Genres of {_linked(ans.source)}: {listed}")
        if ans.genres:
            head.append(f"Its cover reads as: {genre_line(ans.genres)}")
    elif ans.genres:
        panels = f" (read as {ans.panels} panels)" if ans.panels > 1 else ""
        head.append(f"Genre guess{panels}: {genre_line(ans.genres)}")
    if query_note:
        head.append(query_note)
    if ans.low_confidence:
        head.append(f"⚠️ **No close match** — {ans.message or 'these are the nearest styles'}.")
    if not ans.results:
        head.append("I found no titles to show here.")
    embed = discord.Embed(
        title=clip(heading, 256),
        description=clip("\n".join(head), DESCRIPTION_LIMIT, oneline=False) or None,
        colour=WARN if ans.low_confidence else BRAND,
    )
    results_page(embed, lines_of(ans.results), 0, per_page=per_page)
    if image_name:
        embed.set_image(url=f"attachment://{image_name}")
    footer = "All numbers are on the picture · pick one to see it and rate it · 👍/👎 shape your next answers"
    embed.set_footer(text=f"{DEMO_NOTE}\n{footer}" if synthetic else footer)
    return embed


def genres(guesses: Sequence[GenreGuess], panels: int, *, synthetic: bool) -> discord.Embed:
    lines = []
    for i, g in enumerate(guesses, start=1):
        bar = "█" * round(g.probability * 10) + "░" * (10 - round(g.probability * 10))
        lines.append(f"`{i}.` **{escape_markdown(genre_name(g.genre))}** `{bar}` {pct(g.probability)}")
    if panels > 1:
        lines.append(f"\nA tall strip: I read it as {panels} panels and averaged them.")
    embed = discord.Embed(title="Genre guess", description="\n".join(lines) or "No genres known.", colour=BRAND)
    if synthetic:
        embed.set_footer(text=DEMO_NOTE)
    return embed


def rating_feedback(name: str, value: int, state: int) -> str:
    name = f"**{escape_markdown(name)}**"
    if state > 0:
        return f"👍 Noted: you like {name}. Your next answers lean towards titles like it."
    if state < 0:
        return f"👎 Noted: {name} is not for you. I won't suggest it again and steer away from similar ones."
    return f"Removed your {'👍' if value > 0 else '👎'} for {name}."


def title_card(title: Title | None, title_id: str, rating: int) -> discord.Embed:
    if title is None:
        embed = discord.Embed(title=clip(title_id, 256), description="This title is no longer in the catalogue.")
    else:
        embed = discord.Embed(title=clip(_plain(title), 256), url=title.page_url, colour=BRAND)
        if title.authors:
            embed.add_field(name="By", value=clip(", ".join(title.authors), 1024))
        if title.genres:
            embed.add_field(name="Genres", value=clip(", ".join(map(genre_name, title.genres)), 1024))
        if title.synopsis:
            embed.description = clip(title.synopsis, 600)
    state = {1: "👍 You like this.", -1: "👎 Marked as not for you.", 0: "Not rated yet."}[max(-1, min(1, rating))]
    embed.set_footer(text=f"{state} · {title_id}")
    return embed


def likes(page: RatingPage, names: dict[str, str]) -> discord.Embed:
    if not page.total:
        return discord.Embed(
            title="Your ratings",
            description="You haven't rated anything yet. Use 👍 / 👎 under any answer.",
            colour=BRAND,
        )
    lines = []
    for n, entry in enumerate(page.items, start=page.offset + 1):
        icon = "👍" if entry.value > 0 else "👎"
        when = format_dt(_aware(entry.updated_at), "R")
        lines.append(
            f"`{n:>2}` {icon} **{escape_markdown(clip(names.get(entry.title_id, entry.title_id), 60))}** · {when}"
        )
    last = page.offset + len(page.items)
    embed = discord.Embed(title=f"Your ratings ({page.total})", description="\n".join(lines), colour=BRAND)
    embed.set_footer(text=f"{page.offset + 1}–{last} of {page.total} · ✖ removes a rating")
    return embed


def _aware(dt: datetime) -> datetime:
    from datetime import UTC

    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def forget_prompt(n_ratings: int) -> discord.Embed:
    return discord.Embed(
        title="Forget me?",
        description=(
            f"This deletes everything Toonmatch stores about you: your {n_ratings} rating(s), the titles you were "
            "shown and the servers you used it in. It can't be undone.\n\nYou can download a copy first."
        ),
        colour=WARN,
    )


def forgotten(deleted: int) -> str:
    return f"🗑️ Done — deleted {deleted} record(s). Toonmatch no longer knows anything about you."


def discovery(results: Sequence[Result], thumbnails: dict[str, str], *, synthetic: bool) -> list[discord.Embed]:
    """One embed per discovery pick: title (linked), authors, genres, why it was picked, a short synopsis."""
    out = []
    for n, r in enumerate(results, start=1):
        t = r.title
        mark = "🆕 " if r.new else ""  # added by a recent catalogue refresh
        embed = discord.Embed(title=clip(f"{n}. {mark}{_plain(t)}", 256), url=t.page_url, colour=BRAND)
        lines = []
        if t.authors:
            lines.append("by " + escape_markdown(", ".join(t.authors)))
        if t.genres:
            lines.append(" · ".join(escape_markdown(genre_name(g)) for g in t.genres[:3]))
        if r.reason:
            lines.append(f"*{escape_markdown(r.reason)}*")
        if t.synopsis:
            lines.append("\n" + escape_markdown(clip(t.synopsis, 300)))
        embed.description = clip("\n".join(lines), 1500, oneline=False) or None
        if t.id in thumbnails:
            embed.set_thumbnail(url=f"attachment://{thumbnails[t.id]}")
        if synthetic and n == len(results):
            embed.set_footer(text=DEMO_NOTE)
        out.append(embed)
    return out


def _plain(title: Title) -> str:
    return title.title + (f" ({title.title_en})" if title.title_en and title.title_en != title.title else "")


DISCOVERY_HEADER = "🔭 **Discovery** — lesser-known webtoons this server might like. Rate them with 👍 / 👎."


def discovery_status(prefs: GuildPrefs, channel_mention: str | None) -> str:
    if prefs.discovery_disabled_reason:
        return (
            f"⚠️ Discovery posts were turned off: {prefs.discovery_disabled_reason}. "
            "Fix it and run `/discovery set` again."
        )
    if not prefs.discovery_enabled:
        return "Discovery posts are off. Turn them on with `/discovery set`."
    when = format_dt(_aware(prefs.next_post_at), "R") if prefs.next_post_at else "soon"
    return (
        f"Discovery posts go to {channel_mention or 'the configured channel'} every "
        f"{prefs.discovery_every_hours} h; the next one {when}."
    )


def looks_like(guesses: Sequence[GenreGuess], results: Sequence[Result]) -> str:
    genre = (
        f"{escape_markdown(genre_name(guesses[0].genre))} ({pct(guesses[0].probability)})" if guesses else "a webtoon"
    )
    names = ", ".join(_linked(r.title, 40) for r in results[:3])
    text = f"👀 Looks like **{genre}**"
    return f"{text} — drawn a bit like {names}." if names else f"{text}."


def help_embed(
    *,
    engine_status: str,
    synthetic: bool,
    version: str | None = None,
    titles: int | None = None,
    privacy_url: str | None = None,
) -> discord.Embed:
    embed = discord.Embed(
        title="Toonmatch — webtoons from pictures",
        description=(
            "Show me a picture (a panel, a cover, a screenshot) and I'll find webtoons drawn in a similar style. "
            "Rate what I show you with 👍 / 👎 and my next answers follow your taste."
        ),
        colour=BRAND,
    )
    embed.add_field(
        name="Commands",
        value=(
            f"`/similar image` or `link` — webtoons that look like your image (the top 5, all {TITLES_PER_ANSWER} "
            "numbered on the picture, pages for the rest)\n"
            "`/recommend title` — webtoons drawn like a title you know (Korean or English name)\n"
            "`/genre image` — the top-3 genre guesses for an image (tall strips are read panel by panel)\n"
            "Right-click a message → **Apps** → *Find similar webtoons* / *Guess genre*\n"
            "`/likes` — your ratings; remove any\n"
            "`/forget-me` — delete everything stored about you\n"
            "Add `private: True` to /similar, /recommend or /genre for an answer only you see. An answer's buttons are "
            "yours alone; 🗑 deletes it."
        ),
        inline=False,
    )
    embed.add_field(
        name="For server admins (Manage Server)",
        value=(
            "`/discovery set channel every` — post a few lesser-known titles that fit this server's taste "
            "every N hours (1–168)\n`/discovery now` — post one right away · `/discovery off` — stop"
        ),
        inline=False,
    )
    embed.add_field(
        name="Good to know",
        value=(
            "The % next to a title is how close its art style is, measured against this catalogue: near 0% for "
            "unrelated titles, 75% as close as a typical title's closest neighbour, near 100% for the same cover. "
            "⚠️ *No close match* means even the best is below what new titles usually get.\n"
            "Adult titles appear only in age-restricted channels. Heavy commands have a short per-user cooldown.\n"
            f"Engine: {engine_status}"
        ),
        inline=False,
    )
    about = [f"Version {version}"] if version else []
    if titles is not None:
        about.append(f"{titles} titles in the catalogue")
    privacy = f"[privacy statement]({privacy_url})" if privacy_url else "privacy statement: ask the bot's owner"
    about.append(f"{privacy} · `/forget-me` deletes your data")
    embed.add_field(name="About", value=" · ".join(about), inline=False)
    if synthetic:
        embed.set_footer(text=DEMO_NOTE)
    return embed


# --------------------------------------------------------------------------- /settings, /discovery status, /about


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def settings(prefs: GuildPrefs, *, default_picks: int, changed: str | None = None) -> discord.Embed:
    """``/settings show`` (and the answer to every change: the whole list, with what changed named)."""
    picks = f"{prefs.discovery_picks}" if prefs.discovery_picks is not None else f"{default_picks} (the bot's default)"
    embed = discord.Embed(
        title="⚙️ Server settings",
        description=f"✅ Changed: {changed}." if changed else "Change them with `/settings …` (Manage Server).",
        colour=BRAND,
    )
    embed.add_field(
        name="Answer privacy",
        value=(
            ("**private** — only the person who asked sees an answer" if prefs.answers_private else "**public**")
            + " unless they choose `private:` themselves · `/settings privacy`"
        ),
        inline=False,
    )
    embed.add_field(name="Titles per discovery post", value=f"**{picks}** · `/settings discovery-titles`", inline=False)
    embed.add_field(
        name="Adult titles in age-restricted channels",
        value=(
            "**allowed** — only in channels marked age-restricted (18+)"
            if prefs.adult_allowed
            else "**not allowed** — never shown, even in age-restricted channels"
        )
        + " · `/settings adult`",
        inline=False,
    )
    if prefs.locale:
        embed.add_field(name="Language", value=prefs.locale, inline=False)
    embed.add_field(name="Discovery posts", value="`/discovery status`", inline=False)
    return embed


def discovery_report(
    prefs: GuildPrefs,
    channel_mention: str | None,
    *,
    last_post: datetime | None,
    picks: int,
    default_picks: bool,
) -> discord.Embed:
    """``/discovery status``: channel, schedule, last and next post, titles per post, language if set."""
    embed = discord.Embed(title="🔭 Discovery", description=discovery_status(prefs, channel_mention), colour=BRAND)
    if prefs.discovery_channel_id is not None:
        embed.add_field(name="Channel", value=channel_mention or f"<#{prefs.discovery_channel_id}>")
        embed.add_field(name="Schedule", value=f"every {prefs.discovery_every_hours} h")
    embed.add_field(name="Last post", value=format_dt(_aware(last_post), "R") if last_post else "none yet")
    if prefs.discovery_enabled and prefs.next_post_at is not None:
        when = _aware(prefs.next_post_at)
        embed.add_field(name="Next post", value=f"{format_dt(when, 'f')} ({format_dt(when, 'R')})")
    embed.add_field(name="Titles per post", value=f"{picks}" + (" (the bot's default)" if default_picks else ""))
    if prefs.locale:
        embed.add_field(name="Language", value=prefs.locale)
    if prefs.discovery_disabled_reason:
        embed.colour = WARN
    return embed


def duration(seconds: float) -> str:
    """``93784`` → ``"1 d 2 h 3 min"`` (minutes at most; ``"< 1 min"`` below one)."""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes)
    return " ".join(parts) or "< 1 min"


def about(
    *,
    version: str,
    run_id: str | None,
    titles: int | None,
    generation: str | None,
    engine_error: str | None,
    uptime_s: float,
    servers: int,
    shards: str,
    answers: int,
    p50: float | None,
    p99: float | None,
) -> discord.Embed:
    """``/about`` (owner only)."""
    embed = discord.Embed(title="Toonmatch — status", colour=BRAND)
    embed.add_field(name="Version", value=version)
    if titles is None:
        embed.add_field(name="Engine", value=f"⚠️ not loaded ({engine_error or 'no run folder'})", inline=False)
    else:
        embed.add_field(name="Run", value=run_id or "?")
        embed.add_field(name="Catalogue", value=f"{titles} titles")
        embed.add_field(name="Index generation", value=generation or "?")
    embed.add_field(name="Uptime", value=duration(uptime_s))
    embed.add_field(name="Servers", value=str(servers))
    embed.add_field(name="Shards", value=shards)
    latency = f" · p50 {p50:.2f} s · p99 {p99:.2f} s" if p50 is not None and p99 is not None else ""
    embed.add_field(name="Answers in the last 24 h", value=f"{answers}{latency}", inline=False)
    return embed
