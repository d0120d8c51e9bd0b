"""What the discovery tests share."""

from __future__ import annotations


async def enable(world, channel=None, every: int = 6):
    """``/discovery set`` by the server's admin; returns the (ephemeral) answer."""
    rec = await world.run("discovery set", {"channel": channel or world.recs, "every": every}, user=world.admin)
    return rec.original
