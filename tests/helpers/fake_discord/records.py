"""What the fake knows about one dispatched interaction, with awaitable helpers for tests."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .models import StoredMessage

if TYPE_CHECKING:
    from .server import FakeDiscord

# Interaction callback types
PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

CALLBACK_NAMES = {
    PONG: "PONG",
    CHANNEL_MESSAGE: "CHANNEL_MESSAGE_WITH_SOURCE",
    DEFERRED_CHANNEL_MESSAGE: "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE",
    DEFERRED_UPDATE_MESSAGE: "DEFERRED_UPDATE_MESSAGE",
    UPDATE_MESSAGE: "UPDATE_MESSAGE",
    AUTOCOMPLETE_RESULT: "APPLICATION_COMMAND_AUTOCOMPLETE_RESULT",
    MODAL: "MODAL",
}


class InteractionRecord:
    """One INTERACTION_CREATE sent to the bot and everything the bot did in response.

    Attributes (all filled in as the bot responds):

    * ``id``, ``token``, ``type`` (2 command, 3 component, 4 autocomplete, 5 modal submit), ``payload``
      (the exact dict sent over the gateway).
    * ``callback_type`` / ``callback_data``: the first accepted ``POST /interactions/{id}/{token}/callback``.
    * ``callback_attempts``: every callback POST, including rejected ones (double-ack, too late...).
    * ``ack_latency``: seconds from dispatch to the callback POST (``None`` until acknowledged).
    * ``original``: the original response message (for a component interaction answered with
      UPDATE_MESSAGE / DEFERRED_UPDATE_MESSAGE this is the message the component is on).
    * ``followups``: messages created with ``POST /webhooks/{app}/{token}``. After a
      DEFERRED_CHANNEL_MESSAGE ("thinking") defer, Discord turns the *first* followup into the
      original response (it replaces the "thinking..." message and keeps the defer's ephemerality),
      so that message is both ``original`` and ``followups[0]``.
    * ``choices``: autocomplete choices; ``modal``: modal dict the bot opened.
    * ``expired``: the bot tried to acknowledge after the deadline (Discord: 404 Unknown interaction).
    """

    def __init__(self, fake: FakeDiscord, *, id: int, token: str, type: int, payload: dict[str, Any]) -> None:
        self._fake = fake
        self.id = id
        self.token = token
        self.type = type
        self.payload = payload
        self.dispatched_at: float = asyncio.get_running_loop().time()
        self.acknowledged_at: float | None = None
        self.callback_type: int | None = None
        self.callback_data: dict[str, Any] | None = None
        self.callback_attempts: list[dict[str, Any]] = []
        self.original: StoredMessage | None = None
        self.followups: list[StoredMessage] = []
        self.choices: list[dict[str, Any]] | None = None
        self.modal: dict[str, Any] | None = None
        self.expired = False
        # for component / modal-from-component interactions: the message the component is on
        self.source_message: StoredMessage | None = None

    # ---------------------------------------------------------------------------------- state
    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None

    @property
    def ack_latency(self) -> float | None:
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at - self.dispatched_at

    @property
    def deferred(self) -> bool:
        return self.callback_type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE)

    @property
    def ephemeral(self) -> bool:
        return bool(self.original is not None and self.original.ephemeral)

    @property
    def original_deleted(self) -> bool:
        return bool(self.original is not None and self.original.deleted)

    @property
    def response_settled(self) -> bool:
        """True once the original response shows its final form (not a "thinking..." placeholder)."""
        if self.callback_type is None:
            return False
        if self.callback_type == DEFERRED_CHANNEL_MESSAGE:
            return self.original is not None and (self.original.deleted or not self.original.loading)
        return True

    @property
    def messages(self) -> list[StoredMessage]:
        """Original response (if any) followed by the followups that are distinct messages."""
        out: list[StoredMessage] = []
        if self.original is not None and self.callback_type in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            out.append(self.original)
        out += [m for m in self.followups if m is not self.original]
        return out

    def describe(self) -> str:
        cb = CALLBACK_NAMES.get(self.callback_type, self.callback_type) if self.callback_type else "none"
        return (
            f"interaction {self.id} (type {self.type}, {self._name()}): callback={cb}, "
            f"original={self.original!r}, followups={len(self.followups)}, expired={self.expired}, "
            f"rejected_callbacks={sum(1 for a in self.callback_attempts if a.get('status', 200) >= 300)}"
        )

    def _name(self) -> str:
        data = self.payload.get("data") or {}
        return str(data.get("name") or data.get("custom_id") or "?")

    def __repr__(self) -> str:
        return f"<InteractionRecord {self.describe()}>"

    # ---------------------------------------------------------------------------------- waits
    async def wait_acknowledged(self, timeout: float = 5.0) -> float:
        """Wait for the callback POST; returns the acknowledgement latency in seconds."""
        await self._fake.wait_until(
            lambda: self.acknowledged or self.expired, timeout=timeout, what=f"acknowledgement of {self.describe()}"
        )
        if not self.acknowledged:
            raise AssertionError(f"bot acknowledged too late (Discord rejected it): {self.describe()}")
        assert self.ack_latency is not None
        return self.ack_latency

    async def wait_response(self, timeout: float = 5.0) -> StoredMessage | None:
        """Wait for the original response in its final visible form and return it.

        * CHANNEL_MESSAGE_WITH_SOURCE / UPDATE_MESSAGE: returns as soon as acknowledged.
        * DEFERRED_CHANNEL_MESSAGE ("thinking"): waits until the placeholder is replaced — by
          ``edit_original_response`` or by the first followup — or deleted (check ``.deleted``).
        * DEFERRED_UPDATE_MESSAGE: returns the component's message as it is now.
        * Autocomplete / modal: returns ``None`` (use :meth:`wait_choices` / :meth:`wait_modal`).
        """
        await self.wait_acknowledged(timeout)
        await self._fake.wait_until(
            lambda: self.response_settled, timeout=timeout, what=f"final response of {self.describe()}"
        )
        return self.original

    async def wait_followups(self, n: int = 1, timeout: float = 5.0) -> list[StoredMessage]:
        """Wait until at least ``n`` followups were sent; returns all of them."""
        await self._fake.wait_until(
            lambda: len(self.followups) >= n, timeout=timeout, what=f"{n} followup(s) of {self.describe()}"
        )
        return list(self.followups)

    async def wait_choices(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Autocomplete: wait for and return the choices (``[{"name": ..., "value": ...}]``)."""
        await self._fake.wait_until(
            lambda: self.choices is not None, timeout=timeout, what=f"autocomplete choices of {self.describe()}"
        )
        assert self.choices is not None
        return self.choices

    async def wait_modal(self, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the bot to answer with a modal; returns ``{"custom_id", "title", "components"}``."""
        await self._fake.wait_until(lambda: self.modal is not None, timeout=timeout, what=f"modal of {self.describe()}")
        assert self.modal is not None
        return self.modal

    async def wait_deleted(self, timeout: float = 5.0) -> None:
        """Wait until the original response is deleted."""
        await self._fake.wait_until(
            lambda: self.original_deleted, timeout=timeout, what=f"deletion of original response of {self.describe()}"
        )
