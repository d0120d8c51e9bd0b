"""Painters: each draws one part of a cover. The background is numpy; motifs, characters and the author's accents
are PIL on a :class:`~catalog.demo.painters.canvas.Canvas`; texture and border work at the final size.

Motifs come in three families (``shapes``, ``lines``, ``scenery``) and are looked up by the names the genre styles
use; a motif is named after its painter.
"""

from __future__ import annotations

from collections.abc import Callable

from catalog.demo.painters import lines, scenery, shapes
from catalog.demo.painters.canvas import Canvas

MOTIFS: dict[str, Callable[[Canvas], None]] = {
    painter.__name__: painter
    for painter in (
        shapes.bubbles,
        shapes.hearts,
        shapes.sparkles,
        shapes.stars,
        shapes.burst,
        shapes.shards,
        shapes.halftone,
        shapes.blobs,
        shapes.confetti,
        shapes.ball,
        lines.speed_lines,
        lines.streaks,
        lines.cracks,
        lines.field_lines,
        lines.motion_arcs,
        lines.rain,
        scenery.crescent,
        scenery.skyline,
        scenery.sun,
        scenery.houses,
        scenery.bands,
        scenery.hills,
    )
}
FOREGROUND = frozenset({"hearts", "sparkles", "confetti", "rain", "cracks", "motion_arcs"})  # drawn over characters
