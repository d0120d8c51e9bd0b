"""The served titles' cover thumbnails: read once and kept (LRU), fitted to a sheet cell once, drawn on contact
sheets and embed thumbnails."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image

from catalog.format import Title
from ml.preprocess import DEFAULT_LIMITS, ImageLimits, open_image
from ml.serve.results import Answer

log = logging.getLogger(__name__)
COVER_CACHE = 512  # decoded cover thumbnails kept in memory (~40 MB at most): 24 per contact sheet otherwise re-read
DEMO_BANNER = "[DEMO] synthetic catalogue"


@dataclass(frozen=True)
class SheetText:
    """The words on a contact sheet, in the reader's language (the front door translates them; ml draws them):
    the query tile's label for an upload (``query``) and for a title (``source``), the upload's caption, the
    placeholder of a missing cover, the banners, and titles by id as the reader knows them (``names``; missing:
    the catalogue's Korean title)."""

    query: str = "QUERY"
    source: str = "FROM"
    your_image: str = "your image"
    no_cover: str = "no cover"
    demo: str = DEMO_BANNER
    low_confidence: str | None = None  # default: the answer's own message
    names: Mapping[str, str] = field(default_factory=dict)


class CoverStore:
    """Covers of ``titles`` (a run folder's snapshot: small thumbnails). ``synthetic``: every sheet says the
    catalogue is the generated demo one."""

    def __init__(self, titles: Mapping[str, Title], *, limits: ImageLimits = DEFAULT_LIMITS, synthetic: bool = False):
        self.titles = titles
        self.limits = limits
        self.synthetic = synthetic
        self._covers = lru_cache(maxsize=COVER_CACHE)(self._read)
        self._fitted = lru_cache(maxsize=COVER_CACHE)(self._fit)  # ~65 kB each

    def cover(self, title_id: str) -> Image.Image | None:
        """A title's decoded cover thumbnail (cached and shared: callers must not modify it in place); ``None``
        for an unknown title or one without a readable cover."""
        title = self.titles.get(title_id)
        if title is None or title.cover is None:
            return None
        return self._covers(title_id, title.cover)

    def thumbnail(self, title_id: str, size: int = 256) -> bytes | None:
        """A small WebP of a title's cover for an embed thumbnail (``None`` without a readable cover)."""
        from ml.serve.contact_sheet import encode_thumbnail

        return encode_thumbnail(self.cover(title_id), size)

    def contact_sheet(
        self,
        answer: Answer,
        query_image: Image.Image | None = None,
        *,
        include_query: bool = True,
        text: SheetText | None = None,
    ) -> tuple[bytes, str]:
        """The 5×5 sheet (query or source cover first, then the results numbered 1–24): (bytes, "jpg").
        Without ``include_query`` (an upload not to be re-posted) the results alone fill the grid from the top left."""
        from ml.serve.contact_sheet import MAX_TILES, SheetTile, render_contact_sheet

        text = text or SheetText()

        def name(title: Title) -> str:
            return text.names.get(title.id) or title.title

        if not include_query:
            query, label = None, text.query
        elif answer.source is not None:
            query = SheetTile(self.cover(answer.source.id), None, name(answer.source), None)
            label = text.source
        else:
            query = SheetTile(query_image, None, text.your_image, None)
            label = text.query
        tiles = [
            SheetTile(self._fitted(r.title.id), n, name(r.title), r.similarity)
            for n, r in enumerate(answer.results[:MAX_TILES], start=1)
        ]
        low = text.low_confidence or answer.message
        banners = [low] if answer.low_confidence and low else []
        if self.synthetic:
            banners.append(text.demo)
        return render_contact_sheet(
            query, tiles, banner=" · ".join(banners) or None, query_label=label, no_cover=text.no_cover
        )

    def _fit(self, title_id: str) -> Image.Image | None:
        """A title's cover already fitted to a contact-sheet cell (the sheet draws it as is, pixel for pixel the
        same): fitting 24 covers was ~3/4 of drawing a sheet."""
        from ml.serve.contact_sheet import fit_cover

        cover = self.cover(title_id)
        try:
            return None if cover is None else fit_cover(cover)
        except Exception:  # as the sheet itself would: a placeholder instead
            log.warning("cover of %s unusable on a contact sheet", title_id)
            return None

    def _read(self, title_id: str, path: Path) -> Image.Image | None:
        try:
            return open_image(path, self.limits)
        except Exception:  # a missing thumbnail must not break an answer: the sheet shows a placeholder
            log.warning("cover of %s unreadable: %s", title_id, path)
            return None
