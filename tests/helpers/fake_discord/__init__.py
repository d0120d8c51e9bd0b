"""In-process fake Discord for end-to-end tests (placeholder docstring, replaced below)."""

from .models import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser, RecordedRequest, StoredAttachment, StoredMessage
from .records import InteractionRecord
from .server import CommandNotAvailable, FakeDiscord, FakeDiscordError

__all__ = [
    "CommandNotAvailable",
    "FakeChannel",
    "FakeDiscord",
    "FakeDiscordError",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "InteractionRecord",
    "RecordedRequest",
    "StoredAttachment",
    "StoredMessage",
]
