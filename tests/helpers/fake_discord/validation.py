"""The subset of Discord's request validation that catches real bot bugs.

Each validator returns a list of ``(path, message)`` problems; the server turns a non-empty list into
the ``400 Invalid Form Body`` (code 50035) error Discord sends, which discord.py raises as
``HTTPException`` (``CommandSyncFailure`` for command sync).
"""

from __future__ import annotations

import re
from typing import Any

from .models import FLAG_COMPONENTS_V2, walk_components

Problems = list[tuple[str, str]]

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
# Chat-input command / option names: lowercase letters (any script), digits, '-' and '_'.
_NAME_RE = re.compile(r"^[-_\w]{1,32}$")


def _len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def validate_embeds(embeds: Any) -> Problems:
    problems: Problems = []
    if embeds is None:
        return problems
    if not isinstance(embeds, list):
        return [("embeds", "Must be a list")]
    if len(embeds) > MAX_EMBEDS:
        problems.append(("embeds", f"Must be {MAX_EMBEDS} or fewer in length."))
    total = 0
    for i, e in enumerate(embeds):
        p = f"embeds.{i}"
        limits = {"title": 256, "description": 4096}
        for key, limit in limits.items():
            if _len(e.get(key)) > limit:
                problems.append((f"{p}.{key}", f"Must be {limit} or fewer in length."))
            total += _len(e.get(key))
        fields = e.get("fields") or []
        if len(fields) > 25:
            problems.append((f"{p}.fields", "Must be 25 or fewer in length."))
        for j, f in enumerate(fields):
            if not f.get("name"):
                problems.append((f"{p}.fields.{j}.name", "This field is required"))
            if not f.get("value"):
                problems.append((f"{p}.fields.{j}.value", "This field is required"))
            if _len(f.get("name")) > 256:
                problems.append((f"{p}.fields.{j}.name", "Must be 256 or fewer in length."))
            if _len(f.get("value")) > 1024:
                problems.append((f"{p}.fields.{j}.value", "Must be 1024 or fewer in length."))
            total += _len(f.get("name")) + _len(f.get("value"))
        footer = (e.get("footer") or {}).get("text")
        if _len(footer) > 2048:
            problems.append((f"{p}.footer.text", "Must be 2048 or fewer in length."))
        author = (e.get("author") or {}).get("name")
        if _len(author) > 256:
            problems.append((f"{p}.author.name", "Must be 256 or fewer in length."))
        total += _len(footer) + _len(author)
        for key in ("image", "thumbnail"):
            url = (e.get(key) or {}).get("url")
            if key in e and e[key] is not None and not url:
                problems.append((f"{p}.{key}.url", "This field is required"))
            if url and not re.match(r"^(https?|attachment)://", url):
                problems.append((f"{p}.{key}.url", "Scheme must be one of ('http', 'https', 'attachment')."))
    if total > MAX_EMBED_TOTAL:
        problems.append(("embeds", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}"))
    return problems


def validate_components(components: Any, *, v2: bool) -> Problems:
    problems: Problems = []
    if components is None:
        return problems
    if not isinstance(components, list):
        return [("components", "Must be a list")]
    if not v2:
        if len(components) > 5:
            problems.append(("components", "Must be 5 or fewer in length."))
        for i, row in enumerate(components):
            if row.get("type") != 1:
                problems.append((f"components.{i}.type", "Top-level components must be action rows"))
                continue
            children = row.get("components") or []
            if not children:
                problems.append((f"components.{i}.components", "Must be between 1 and 5 in length."))
            if len(children) > 5:
                problems.append((f"components.{i}.components", "Must be between 1 and 5 in length."))
            if any(c.get("type") in (3, 5, 6, 7, 8) for c in children) and len(children) > 1:
                problems.append((f"components.{i}.components", "A select menu must be alone in its row"))
    seen: set[str] = set()
    for comp in walk_components(components):
        cid = comp.get("custom_id")
        ctype = comp.get("type")
        if cid is not None:
            if len(cid) > 100:
                problems.append(("components", f"custom_id {cid[:20]!r}... must be 100 or fewer in length."))
            if cid in seen:
                problems.append(("components", f"Component custom id cannot be duplicated: {cid!r}"))
            seen.add(cid)
        if ctype == 2:
            style = comp.get("style")
            if style == 5:
                if not comp.get("url"):
                    problems.append(("components", "Link buttons require a url"))
            elif style == 6:
                if not comp.get("sku_id"):
                    problems.append(("components", "Premium buttons require a sku_id"))
            elif not cid:
                problems.append(("components", "Non-link buttons require a custom_id"))
            if _len(comp.get("label")) > 80:
                problems.append(("components", "Button label must be 80 or fewer in length."))
            if not comp.get("label") and not comp.get("emoji") and style != 6:
                problems.append(("components", "Buttons need a label or an emoji"))
        if ctype == 3:
            options = comp.get("options") or []
            if not 1 <= len(options) <= 25:
                problems.append(("components", "Select options must be between 1 and 25 in length."))
            for opt in options:
                if not 1 <= _len(opt.get("label")) <= 100 or not 1 <= _len(opt.get("value")) <= 100:
                    problems.append(("components", "Select option label/value must be 1-100 characters"))
    return problems


def validate_message(body: dict[str, Any], *, n_files: int, creating: bool) -> Problems:
    """Validate a message create/edit body (channel message, interaction response or webhook message)."""
    problems: Problems = []
    content = body.get("content")
    flags = int(body.get("flags") or 0)
    v2 = bool(flags & FLAG_COMPONENTS_V2)
    if content is not None and not isinstance(content, str):
        problems.append(("content", "Must be a string"))
    elif _len(content) > MAX_CONTENT:
        problems.append(("content", f"Must be {MAX_CONTENT} or fewer in length."))
    problems += validate_embeds(body.get("embeds"))
    problems += validate_components(body.get("components"), v2=v2)
    if v2 and (body.get("content") or body.get("embeds")):
        problems.append(("content", "The 'content' and 'embeds' fields cannot be used with IS_COMPONENTS_V2"))
    if creating and not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or n_files
        or body.get("sticker_ids")
        or body.get("poll")
    ):
        problems.append(("", "Cannot send an empty message"))
    return problems


def validate_choices(choices: Any) -> Problems:
    problems: Problems = []
    if not isinstance(choices, list):
        return [("data.choices", "Must be a list")]
    if len(choices) > 25:
        problems.append(("data.choices", "Must be 25 or fewer in length."))
    for i, c in enumerate(choices):
        name = c.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            problems.append((f"data.choices.{i}.name", "Must be between 1 and 100 in length."))
        value = c.get("value")
        if isinstance(value, str) and len(value) > 100:
            problems.append((f"data.choices.{i}.value", "Must be 100 or fewer in length."))
        if value is None:
            problems.append((f"data.choices.{i}.value", "This field is required"))
    return problems


def _validate_options(options: list[dict[str, Any]], path: str, depth: int) -> Problems:
    problems: Problems = []
    if len(options) > 25:
        problems.append((path, "Must be 25 or fewer in length."))
    seen_optional = False
    names: set[str] = set()
    for i, opt in enumerate(options):
        p = f"{path}.{i}"
        name = opt.get("name", "")
        if not _NAME_RE.match(name) or name != name.lower():
            problems.append((f"{p}.name", f"Invalid option name {name!r}"))
        if name in names:
            problems.append((f"{p}.name", f"Duplicate option name {name!r}"))
        names.add(name)
        if not 1 <= _len(opt.get("description")) <= 100:
            problems.append((f"{p}.description", "Must be between 1 and 100 in length."))
        otype = opt.get("type")
        if otype in (1, 2):
            if depth >= 2 or (otype == 2 and depth >= 1):
                problems.append((f"{p}.type", "Subcommands nested too deeply"))
            problems += _validate_options(opt.get("options") or [], f"{p}.options", depth + 1)
            continue
        if opt.get("required"):
            if seen_optional:
                problems.append((f"{p}.required", "Required options must be placed before non-required options"))
        else:
            seen_optional = True
        choices = opt.get("choices") or []
        if len(choices) > 25:
            problems.append((f"{p}.choices", "Must be 25 or fewer in length."))
        if choices and opt.get("autocomplete"):
            problems.append((f"{p}.autocomplete", "Autocomplete cannot be set if there are choices."))
    return problems


def validate_command(cmd: dict[str, Any], index: int) -> Problems:
    problems: Problems = []
    p = str(index)
    ctype = cmd.get("type", 1) or 1
    name = cmd.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        problems.append((f"{p}.name", "Must be between 1 and 32 in length."))
    elif ctype == 1 and (not _NAME_RE.match(name) or name != name.lower()):
        problems.append((f"{p}.name", f"Command name is invalid: {name!r}"))
    if ctype == 1:
        if not 1 <= _len(cmd.get("description")) <= 100:
            problems.append((f"{p}.description", "Must be between 1 and 100 in length."))
        problems += _validate_options(cmd.get("options") or [], f"{p}.options", 0)
    elif cmd.get("description"):
        problems.append((f"{p}.description", "Context menu commands cannot have a description"))
    return problems


def validate_commands(commands: Any) -> Problems:
    if not isinstance(commands, list):
        return [("", "Must be a list")]
    problems: Problems = []
    if len(commands) > 100:
        problems.append(("", "Must be 100 or fewer in length."))
    seen: set[tuple[str, int]] = set()
    for i, cmd in enumerate(commands):
        problems += validate_command(cmd, i)
        key = (cmd.get("name"), cmd.get("type", 1) or 1)
        if key in seen:
            problems.append((f"{i}.name", "Application command names must be unique"))
        seen.add(key)
    return problems


def form_error(problems: Problems) -> dict[str, Any]:
    """Discord's ``Invalid Form Body`` error body."""
    errors: dict[str, Any] = {}
    for path, message in problems:
        node = errors
        for part in [x for x in path.split(".") if x]:
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": "BASE_TYPE_INVALID", "message": message})
    return {"message": "Invalid Form Body", "code": 50035, "errors": errors}
