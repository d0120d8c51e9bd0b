"""Data model of the fake Discord: users, guilds, channels, roles, members, messages, attachments.

Every object knows how to render itself as the JSON payload Discord (API v10) would send, in the
shapes discord.py 2.7 parses (``state.py``, ``guild.py``, ``member.py``, ``message.py``...).
Snowflakes, ISO-8601 timestamps and permission strings follow Discord's formats.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import itertools
import mimetypes
import time
from dataclasses import dataclass, field
from typing import Any

import discord

DISCORD_EPOCH_MS = 1420070400000

#: Every permission bit discord.py knows about (what Discord grants administrators / owners).
ALL_PERMISSIONS: int = discord.Permissions.all().value
ADMINISTRATOR: int = discord.Permissions(administrator=True).value
VIEW_CHANNEL: int = discord.Permissions(view_channel=True).value
SEND_MESSAGES: int = discord.Permissions(send_messages=True).value
ATTACH_FILES: int = discord.Permissions(attach_files=True).value
EMBED_LINKS: int = discord.Permissions(embed_links=True).value

#: Roughly what a fresh server's @everyone role gets.
DEFAULT_EVERYONE_PERMISSIONS: int = discord.Permissions(
    create_instant_invite=True,
    add_reactions=True,
    stream=True,
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    mention_everyone=True,
    use_external_emojis=True,
    connect=True,
    speak=True,
    use_voice_activation=True,
    change_nickname=True,
    use_application_commands=True,
    create_public_threads=True,
    create_private_threads=True,
    send_messages_in_threads=True,
    use_external_stickers=True,
).value

#: What a bot invited with a typical "send messages + embeds + files" invite link gets (its managed role).
DEFAULT_BOT_PERMISSIONS: int = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    use_external_emojis=True,
    use_application_commands=True,
).value

CHANNEL_TYPES: dict[str, int] = {
    "text": 0,
    "dm": 1,
    "voice": 2,
    "group": 3,
    "category": 4,
    "news": 5,
    "announcement": 5,
    "news_thread": 10,
    "public_thread": 11,
    "private_thread": 12,
    "stage": 13,
    "forum": 15,
    "media": 16,
}

# Message flags
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15


def perm_value(value: int | discord.Permissions | None, default: int) -> int:
    """Normalise a permissions argument (``int``, :class:`discord.Permissions` or ``None``)."""
    if value is None:
        return default
    if isinstance(value, discord.Permissions):
        return value.value
    return int(value)


def iso(ts: dt.datetime | None = None) -> str:
    """Discord-style ISO-8601 timestamp with microseconds and ``+00:00``."""
    ts = ts or dt.datetime.now(dt.UTC)
    return ts.isoformat(timespec="microseconds")


class SnowflakeGenerator:
    """Monotonic, time-based snowflakes (so ``discord.utils.snowflake_time`` gives a sensible date)."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22 | (1 << 17)
        self._last = max(self._last + 1, candidate)
        return self._last

    def on_shard(self, shard: int, count: int) -> int:
        """The next snowflake whose shard ``(id >> 22) % count`` is ``shard`` (a guild id on that shard); its
        timestamp may run up to ``count - 1`` ms ahead."""
        nxt = self()
        stamp = nxt >> 22
        stamp += (shard - stamp) % count
        self._last = max(self._last, stamp << 22 | (nxt & ((1 << 22) - 1)))
        return self._last


def snowflake_of(obj: Any) -> int:
    """Accept an ``int``/``str`` id, a fake model object, a Discord payload dict or a discord.py object."""
    if obj is None:
        raise ValueError("expected an object or id, got None")
    if isinstance(obj, bool):
        raise TypeError("bool is not a snowflake")
    if isinstance(obj, int):
        return obj
    if isinstance(obj, str):
        return int(obj)
    if isinstance(obj, dict):
        return int(obj["id"])
    return int(obj.id)


def image_size(data: bytes) -> tuple[int | None, int | None]:
    """(width, height) of an image using Pillow if available, else (None, None)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a project dependency
        return None, None
    try:
        with Image.open(io.BytesIO(data)) as img:
            return int(img.width), int(img.height)
    except Exception:
        return None, None


def guess_content_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


@dataclass
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None
    discriminator: str = "0"

    def to_payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": self.discriminator,
            "avatar": self.avatar,
            "avatar_decoration_data": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "primary_guild": None,
            "collectibles": None,
        }
        if self.bot:
            data["bot"] = True
        return data

    def to_self_payload(self) -> dict[str, Any]:
        """``GET /users/@me`` / READY ``user`` shape (adds the private fields)."""
        data = self.to_payload()
        data.update({"verified": True, "mfa_enabled": False, "locale": "en-US", "email": None, "bio": ""})
        return data


@dataclass
class FakeRole:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    bot_id: int | None = None
    color: int = 0
    hoist: bool = False
    mentionable: bool = False

    def to_payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "description": None,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class FakeChannel:
    id: int
    guild_id: int | None
    name: str | None
    type: int = 0
    nsfw: bool = False
    topic: str | None = None
    parent_id: int | None = None
    position: int = 0
    permission_overwrites: list[dict[str, Any]] = field(default_factory=list)
    rate_limit_per_user: int = 0
    recipients: list[FakeUser] = field(default_factory=list)
    last_message_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_dm(self) -> bool:
        return self.type in (1, 3)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def to_payload(self, *, permissions: int | None = None) -> dict[str, Any]:
        if self.is_dm:
            data: dict[str, Any] = {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "flags": 0,
                "recipients": [u.to_payload() for u in self.recipients],
            }
        else:
            data = {
                "id": str(self.id),
                "type": self.type,
                "guild_id": str(self.guild_id),
                "name": self.name,
                "position": self.position,
                "permission_overwrites": copy.deepcopy(self.permission_overwrites),
                "nsfw": self.nsfw,
                "parent_id": str(self.parent_id) if self.parent_id else None,
                "flags": 0,
            }
            if self.type in (0, 5, 15, 16):
                data["topic"] = self.topic
                data["rate_limit_per_user"] = self.rate_limit_per_user
                data["last_message_id"] = str(self.last_message_id) if self.last_message_id else None
                data["default_auto_archive_duration"] = 1440
            if self.type in (2, 13):
                data.update({"bitrate": 64000, "user_limit": 0, "rtc_region": None, "last_message_id": None})
            if self.type in (15, 16):
                data.update(
                    {
                        "available_tags": [],
                        "default_reaction_emoji": None,
                        "default_sort_order": None,
                        "default_forum_layout": 0,
                        "default_thread_rate_limit_per_user": 0,
                    }
                )
        if permissions is not None:
            data["permissions"] = str(permissions)
        data.update(copy.deepcopy(self.extra))
        return data


@dataclass
class FakeMember:
    user: FakeUser
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso)

    @property
    def id(self) -> int:
        return self.user.id

    def to_payload(self, *, permissions: int | None = None, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "joined_at": self.joined_at,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
        }
        if with_user:
            data["user"] = self.user.to_payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    preferred_locale: str = "en-US"
    features: list[str] = field(default_factory=list)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    roles: dict[int, FakeRole] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    joined_at: str = field(default_factory=iso)

    @property
    def everyone_role(self) -> FakeRole:
        return self.roles[self.id]

    def text_channels(self) -> list[FakeChannel]:
        return [c for c in self.channels.values() if c.type in (0, 5)]

    def base_permissions(self, user_id: int) -> int:
        """Guild-level permissions of a member (roles + @everyone, owner/admin = everything)."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.everyone_role.permissions
        member = self.members.get(user_id)
        if member is not None:
            for role_id in member.roles:
                role = self.roles.get(role_id)
                if role is not None:
                    perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def channel_permissions(self, user_id: int, channel: FakeChannel | None) -> int:
        """Discord's permission resolution: base, then @everyone, role and member overwrites."""
        base = self.base_permissions(user_id)
        if base & ADMINISTRATOR or channel is None:
            return base
        perms = base
        overwrites = channel.permission_overwrites
        member = self.members.get(user_id)
        member_roles = set(member.roles) if member else set()
        for ow in overwrites:
            if int(ow["id"]) == self.id:
                perms = (perms & ~int(ow.get("deny", 0))) | int(ow.get("allow", 0))
        allow = deny = 0
        for ow in overwrites:
            if int(ow.get("type", 0)) == 0 and int(ow["id"]) in member_roles:
                allow |= int(ow.get("allow", 0))
                deny |= int(ow.get("deny", 0))
        perms = (perms & ~deny) | allow
        for ow in overwrites:
            if int(ow.get("type", 0)) == 1 and int(ow["id"]) == user_id:
                perms = (perms & ~int(ow.get("deny", 0))) | int(ow.get("allow", 0))
        if not perms & VIEW_CHANNEL:
            return 0
        return perms

    def partial_payload(self) -> dict[str, Any]:
        """The small ``guild`` object included in INTERACTION_CREATE."""
        return {"id": str(self.id), "locale": self.preferred_locale, "features": list(self.features)}

    def to_payload(self, *, members: list[FakeMember]) -> dict[str, Any]:
        """Full GUILD_CREATE payload."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.to_payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": list(self.features),
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.preferred_locale,
            "nsfw_level": 0,
            "nsfw": False,
            "incidents_data": None,
            "lazy": True,
            "large": len(self.members) > 250,
            "unavailable": False,
            "joined_at": self.joined_at,
            "member_count": len(self.members),
            "members": [m.to_payload() for m in members],
            "channels": [c.to_payload() for c in self.channels.values()],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
            "application_command_counts": {},
        }


@dataclass
class StoredAttachment:
    """An attachment served by the fake CDN (registered by a test or uploaded by the bot)."""

    id: int
    filename: str
    data: bytes
    content_type: str
    url: str
    proxy_url: str
    description: str | None = None
    width: int | None = None
    height: int | None = None
    ephemeral: bool = False

    @property
    def size(self) -> int:
        return len(self.data)

    def to_payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.proxy_url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            data["description"] = self.description
        if self.width is not None:
            data["width"] = self.width
            data["height"] = self.height
        if self.ephemeral:
            data["ephemeral"] = True
        return data


def walk_components(components: list[dict[str, Any]]):
    """Yield every component dict, recursing into rows, sections, containers and labels."""
    for comp in components or []:
        yield comp
        yield from walk_components(comp.get("components") or [])
        for key in ("component", "accessory"):
            child = comp.get(key)
            if isinstance(child, dict):
                yield from walk_components([child])


def number_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Discord assigns a numeric ``id`` to each component that doesn't have one."""
    components = copy.deepcopy(components or [])
    used = {c["id"] for c in walk_components(components) if isinstance(c.get("id"), int)}
    counter = itertools.count(1)
    for comp in walk_components(components):
        if not isinstance(comp.get("id"), int):
            n = next(counter)
            while n in used:
                n = next(counter)
            comp["id"] = n
    return components


@dataclass
class StoredMessage:
    """A message as the fake Discord holds it (bot posts, interaction responses, followups, user messages).

    It is live: later edits/deletions by the bot mutate it. ``versions`` keeps a payload snapshot after
    each create/edit so tests can assert on intermediate states (e.g. progress edits).
    """

    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    kind: str  # "channel" | "interaction_response" | "followup" | "user"
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[StoredAttachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    timestamp: str = field(default_factory=iso)
    edited_timestamp: str | None = None
    deleted: bool = False
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    tts: bool = False
    message_reference: dict[str, Any] | None = None
    versions: list[dict[str, Any]] = field(default_factory=list)

    # -- convenience -----------------------------------------------------------------------------
    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while this is a deferred "Bot is thinking..." placeholder."""
        return bool(self.flags & FLAG_LOADING)

    @property
    def files(self) -> dict[str, bytes]:
        """``{filename: bytes}`` of the attachments."""
        return {a.filename: a.data for a in self.attachments}

    @property
    def filenames(self) -> list[str]:
        return [a.filename for a in self.attachments]

    def all_components(self) -> list[dict[str, Any]]:
        return list(walk_components(self.components))

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in self.all_components() if c.get("custom_id")]

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        for comp in self.all_components():
            if comp.get("custom_id") == custom_id:
                return comp
        return None

    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in self.all_components() if c.get("type") == 2]

    def embed_text(self) -> str:
        """All the text in the embeds (title, description, fields, footer), for loose assertions."""
        parts: list[str] = []
        for e in self.embeds:
            parts += [e.get("title") or "", e.get("description") or ""]
            for f in e.get("fields", []):
                parts += [f.get("name") or "", f.get("value") or ""]
            parts.append((e.get("footer") or {}).get("text") or "")
            parts.append((e.get("author") or {}).get("name") or "")
        return "\n".join(p for p in parts if p)

    def to_payload(self) -> dict[str, Any]:
        """The Discord message object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": self.type,
            "content": self.content,
            "author": self.author.to_payload(),
            "attachments": [a.to_payload() for a in self.attachments],
            "embeds": copy.deepcopy(self.embeds),
            "components": copy.deepcopy(self.components),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": self.tts,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "flags": self.flags,
        }
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = copy.deepcopy(self.interaction_metadata)
        if self.message_reference is not None:
            data["message_reference"] = copy.deepcopy(self.message_reference)
        return data

    def snapshot(self) -> None:
        self.versions.append(self.to_payload())

    def __repr__(self) -> str:
        return (
            f"<StoredMessage id={self.id} kind={self.kind} channel={self.channel_id} content={self.content!r:.60}"
            f" embeds={len(self.embeds)} files={self.filenames} flags={self.flags} deleted={self.deleted}>"
        )


@dataclass
class UploadedFile:
    """A ``files[n]`` part of a multipart request."""

    field_name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RecordedRequest:
    """One REST request the bot made to the fake."""

    method: str
    path: str  # relative to /api/v10, e.g. "/channels/123/messages"
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    headers: dict[str, str]
    status: int | None = None
    response: Any = None
    at: float = 0.0

    def __repr__(self) -> str:
        return f"<RecordedRequest {self.method} {self.path} -> {self.status} files={[f.filename for f in self.files]}>"
