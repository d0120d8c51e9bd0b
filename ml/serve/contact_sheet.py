"""The 5×5 contact sheet: the query (or source title's cover) top-left, then up to 24 numbered results (or the
results alone, from the top left, when the query is left out).

Pure Pillow, no system fonts: text is drawn with the NanumGothic TTFs shipped inside the ``koreanize_matplotlib``
package, so Korean titles render the same everywhere. The sheet is encoded as PNG, or as WebP when the PNG would be
1 MB or more (Discord previews both).
"""

from __future__ import annotations

import functools
import importlib.util
import io
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from ml.serve import TITLES_PER_ANSWER

log = logging.getLogger(__name__)

# ---- layout -------------------------------------------------------------------------------------------------------
MAX_TILES = TITLES_PER_ANSWER  # numbered results; the query takes the first cell
COLS = ROWS = math.isqrt(MAX_TILES + 1)  # 5: a square grid (a test checks that the results and the query fill it)
CELL_W, CELL_H = 150, 190
IMAGE_H = 146  # the cover box at the top of a cell; the two caption lines sit below it
GAP = 2
MARGIN = 4
BANNER_H = 30
GRID_W = 2 * MARGIN + COLS * CELL_W + (COLS - 1) * GAP  # 766
GRID_H = 2 * MARGIN + ROWS * CELL_H + (ROWS - 1) * GAP  # 966
TEXT_PAD = 5

# ---- colours (Discord dark theme friendly) ------------------------------------------------------------------------
BG = (30, 31, 34)
CELL_BG = (43, 45, 49)
LETTERBOX = (24, 25, 28)
PLACEHOLDER_BG = (58, 60, 66)
TEXT = (242, 243, 245)
MUTED = (181, 186, 193)
ACCENT = (240, 178, 50)  # the query frame and label
ACCENT_TEXT = (30, 31, 34)
BANNER_BG = (88, 101, 242)
FRAME = 3

# ---- output -------------------------------------------------------------------------------------------------------
MAX_BYTES = 1_000_000  # strictly under 1 MB (decimal, safely under Discord's limits)
JPEG_QUALITIES = (90, 80, 70, 55, 40)

# ---- fonts --------------------------------------------------------------------------------------------------------
FONT_PACKAGE = "koreanize_matplotlib"
_PREFERRED = {
    False: ("NanumGothic.ttf", "NanumGothicBold.ttf", "NanumGothicLight.ttf", "NanumGothicExtraBold.ttf"),
    True: ("NanumGothicBold.ttf", "NanumGothicExtraBold.ttf", "NanumGothic.ttf", "NanumGothicLight.ttf"),
}


class FontNotFoundError(RuntimeError):
    """No Nanum TrueType font was found inside the ``koreanize_matplotlib`` package (a broken install)."""


@dataclass(frozen=True)
class SheetTile:
    image: Image.Image | None
    number: int | None  # 1..24, None for the query tile
    title: str
    similarity: float | None  # 0..1


@functools.cache
def _nanum_fonts() -> dict[str, Path]:
    """Every Nanum font file shipped in the package folder: file name -> path (searched recursively, once).

    The folder is located with ``find_spec`` rather than by importing the package: importing koreanize_matplotlib
    imports matplotlib and rewrites its global font settings, which a Discord bot must not pay for or inherit.
    """
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FontNotFoundError(
            f"the '{FONT_PACKAGE}' package is not installed; it ships the NanumGothic fonts the contact sheet needs "
            f"(pip install koreanize-matplotlib)"
        )
    found: dict[str, Path] = {}
    for folder in spec.submodule_search_locations:
        for path in sorted(Path(folder).rglob("*")):
            name = path.name.lower()
            if name.startswith("nanum") and name.endswith((".ttf", ".otf", ".ttc")) and path.is_file():
                found.setdefault(path.name, path)
    return found


@functools.cache
def font_file(bold: bool = False) -> str:
    """Name of the font file used for regular or bold text (the preferred NanumGothic weight, else any Nanum file)."""
    fonts = _nanum_fonts()
    for name in _PREFERRED[bold]:
        if name in fonts:
            return name
    if fonts:
        return sorted(fonts)[0]
    raise FontNotFoundError(
        f"no Nanum font (*.ttf/*.otf) found inside the '{FONT_PACKAGE}' package; reinstall koreanize-matplotlib"
    )


@functools.cache
def load_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A cached Nanum font at ``size`` px (basic layout: Hangul syllables need no shaping, and it is faster)."""
    path = _nanum_fonts()[font_file(bold)]
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)


# ---- text helpers -------------------------------------------------------------------------------------------------
# Font specs are (size px, bold). Measured lengths, truncations and rendered text masks are cached: numbers,
# percentages and popular titles repeat from sheet to sheet. FreeType faces are not thread-safe and sheets are
# rendered on a thread pool, so every use of a font object holds _FONT_LOCK.
FontSpec = tuple[int, bool]
CAPTION: FontSpec = (14, True)
TITLE: FontSpec = (12, False)
PILL: FontSpec = (12, True)
SMALL: FontSpec = (11, False)
BANNER: FontSpec = (14, True)
_FONT_LOCK = threading.RLock()


def _clean(text: str) -> str:
    return " ".join(str(text).split())


@functools.lru_cache(maxsize=8192)
def _length(text: str, spec: FontSpec) -> float:
    with _FONT_LOCK:
        return load_font(*spec).getlength(text)


def truncate(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """``text`` on one line, cut with "…" so it fits ``width`` px."""
    text = _clean(text)
    with _FONT_LOCK:
        if font.getlength(text) <= width:
            return text
        lo, hi = 0, len(text)
        while lo < hi:  # the longest prefix that fits with the ellipsis
            mid = (lo + hi + 1) // 2
            if font.getlength(text[:mid].rstrip() + "…") <= width:
                lo = mid
            else:
                hi = mid - 1
    return text[:lo].rstrip() + "…"


@functools.lru_cache(maxsize=4096)
def _fit(text: str, spec: FontSpec, width: int) -> str:
    return truncate(text, load_font(*spec), width)


@functools.lru_cache(maxsize=2048)
def _mask(text: str, spec: FontSpec, anchor: str) -> tuple[Image.Image | None, int, int]:
    """``text`` rendered as an 8-bit coverage mask, with its offset from the anchor point."""
    font = load_font(*spec)
    with _FONT_LOCK:
        left, top, right, bottom = font.getbbox(text, anchor=anchor)
        if right <= left or bottom <= top:
            return None, 0, 0
        mask = Image.new("L", (right - left, bottom - top), 0)
        ImageDraw.Draw(mask).text((-left, -top), text, font=font, fill=255, anchor=anchor)
    return mask, left, top


def _text(img: Image.Image, xy: tuple[float, float], text: str, spec: FontSpec, fill, anchor: str = "la") -> None:
    """Draw ``text`` at ``xy`` (Pillow anchor semantics) from the mask cache."""
    mask, left, top = _mask(text, spec, anchor)
    if mask is not None:
        x, y = round(xy[0]) + left, round(xy[1]) + top
        img.paste(fill, (x, y, x + mask.width, y + mask.height), mask)


def _wrap(text: str, spec: FontSpec, width: float, max_lines: int) -> list[str]:
    """Greedy wrap at spaces, breaking inside words (Korean titles often have none) when a word is too long."""
    lines: list[str] = []
    rest = _clean(text)
    while rest and len(lines) < max_lines:
        if _length(rest, spec) <= width:
            lines.append(rest)
            rest = ""
            break
        cut = len(rest)
        while cut > 1 and _length(rest[:cut], spec) > width:
            cut -= 1
        space = rest.rfind(" ", 0, cut + 1)
        if space > 0:
            cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest and lines:
        lines[-1] = _fit(lines[-1] + " " + rest, spec, int(width))
    return lines


def _percent(similarity: float) -> str:
    return f"{round(min(max(float(similarity), 0.0), 1.0) * 100)}%"


def _similarity_colour(similarity: float) -> tuple[int, int, int]:
    if similarity >= 0.8:
        return (87, 242, 135)
    if similarity >= 0.6:
        return (254, 231, 92)
    return MUTED


# ---- covers -------------------------------------------------------------------------------------------------------
def fit_cover(img: Image.Image, box: tuple[int, int] = (CELL_W, IMAGE_H)) -> Image.Image:
    """``img`` scaled to fit ``box`` (aspect ratio kept), centred on the sheet's dark letterbox colour: a cover as
    a contact-sheet cell draws it (default box: one cell's cover area). Unlike :func:`ml.preprocess.letterbox` (the
    models' white-padded square input) it honours EXIF orientation and transparency and returns an image."""
    bw, bh = box
    if img.getexif().get(0x0112, 1) != 1:  # EXIF orientation
        img = ImageOps.exif_transpose(img)
    w, h = img.size
    if w < 1 or h < 1:
        raise ValueError(f"empty image {w}×{h}")
    scale = min(bw / w, bh / h)
    size = (max(1, min(bw, round(w * scale))), max(1, min(bh, round(h * scale))))
    if img.mode.startswith("I;16"):  # 16-bit greyscale: keep the top byte instead of clipping at 255
        img = img.convert("F").point(lambda v: v / 256).convert("L")
    elif img.mode in ("I", "F"):
        img = img.convert("L")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info)
    img = img.convert("RGBA" if has_alpha else "RGB")
    if img.size != size:
        # Bilinear (antialiased when shrinking) is ~2× faster than bicubic and looks the same at thumbnail size.
        img = img.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = Image.new("RGB", box, LETTERBOX)
    pos = ((bw - size[0]) // 2, (bh - size[1]) // 2)
    out.paste(img, pos, img if has_alpha else None)
    return out


def _placeholder(title: str, box: tuple[int, int], no_cover: str = "no cover") -> Image.Image:
    """A tile for a missing cover: the title, wrapped and centred."""
    out = Image.new("RGB", box, PLACEHOLDER_BG)
    lines = _wrap(title, CAPTION, box[0] - 2 * TEXT_PAD - 4, 4) or ["?"]
    line_h = 18
    y = (box[1] - len(lines) * line_h - 16) // 2
    for line in lines:
        _text(out, (box[0] / 2, y), line, CAPTION, TEXT, anchor="mt")
        y += line_h
    _text(out, (box[0] / 2, y + 4), _fit(no_cover, SMALL, box[0] - 8), SMALL, MUTED, anchor="mt")
    return out


def _cover(tile: SheetTile, box: tuple[int, int], no_cover: str = "no cover") -> Image.Image:
    if tile.image is None:
        return _placeholder(tile.title, box, no_cover)
    try:
        return fit_cover(tile.image, box)
    except Exception as e:  # a broken cover must not break the sheet
        log.warning("contact sheet: unusable cover for %r (%s); drawing a placeholder", tile.title, e)
        return _placeholder(tile.title, box, no_cover)


# ---- drawing ------------------------------------------------------------------------------------------------------
def _draw_cell(
    sheet: Image.Image,
    draw: ImageDraw.ImageDraw,
    x: int,
    y: int,
    tile: SheetTile,
    label: str | None,
    no_cover: str = "no cover",
):
    """One cell at (x, y). ``label`` is set for the query tile (framed, labelled, no number)."""
    draw.rectangle((x, y + IMAGE_H, x + CELL_W - 1, y + CELL_H - 1), fill=CELL_BG)
    sheet.paste(_cover(tile, (CELL_W, IMAGE_H), no_cover), (x, y))
    text_w = CELL_W - 2 * TEXT_PAD - 2
    line1_y, line2_y = y + IMAGE_H + 5, y + IMAGE_H + 24
    if label is not None:
        for i in range(FRAME):
            draw.rectangle((x + i, y + i, x + CELL_W - 1 - i, y + CELL_H - 1 - i), outline=ACCENT)
        pill = _fit(label, PILL, CELL_W - 2 * FRAME - 16)
        if pill:
            right = x + FRAME + round(_length(pill, PILL)) + 12
            draw.rectangle((x + FRAME, y + FRAME, right, y + FRAME + 19), fill=ACCENT)
            _text(sheet, (x + FRAME + 6, y + FRAME + 10), pill, PILL, ACCENT_TEXT, anchor="lm")
        _text(sheet, (x + TEXT_PAD + 1, line1_y), _fit(label, CAPTION, text_w), CAPTION, ACCENT)
        _text(sheet, (x + TEXT_PAD + 1, line2_y), _fit(tile.title, TITLE, text_w), TITLE, TEXT)
        return
    head = f"#{tile.number}"
    _text(sheet, (x + TEXT_PAD, line1_y), head, CAPTION, TEXT)
    if tile.similarity is not None:
        sep_x = x + TEXT_PAD + _length(head, CAPTION)
        _text(sheet, (sep_x, line1_y), " · ", CAPTION, MUTED)
        similarity = float(tile.similarity)
        pct_x = sep_x + _length(" · ", CAPTION)
        _text(sheet, (pct_x, line1_y), _percent(similarity), CAPTION, _similarity_colour(similarity))
    _text(sheet, (x + TEXT_PAD, line2_y), _fit(tile.title, TITLE, text_w), TITLE, MUTED)


def _draw_banner(sheet: Image.Image, draw: ImageDraw.ImageDraw, text: str, top: int):
    draw.rectangle((0, top, GRID_W - 1, top + BANNER_H - 1), fill=BANNER_BG)
    _text(sheet, (GRID_W / 2, top + BANNER_H / 2), _fit(text, BANNER, GRID_W - 24), BANNER, TEXT, anchor="mm")


def sheet_size(banner: bool) -> tuple[int, int]:
    """Pixel size of a sheet with or without the banner strip."""
    return GRID_W, GRID_H + (BANNER_H if banner else 0)


def render_sheet_image(
    query: SheetTile | None,
    tiles: list[SheetTile],
    *,
    banner: str | None = None,
    query_label: str = "QUERY",
    no_cover: str = "no cover",
) -> Image.Image:
    """The sheet as an RGB image (see :func:`render_contact_sheet`)."""
    if len(tiles) > MAX_TILES:
        raise ValueError(f"a contact sheet holds at most {MAX_TILES} results, got {len(tiles)}")
    banner = _clean(banner) if banner else None
    top = BANNER_H if banner else 0
    sheet = Image.new("RGB", sheet_size(bool(banner)), BG)
    draw = ImageDraw.Draw(sheet)
    if banner:
        _draw_banner(sheet, draw, banner, 0)
    cells = [query, *tiles] if query is not None else tiles
    first_result = 1 if query is not None else 0
    for i, tile in enumerate(cells):
        row, col = divmod(i, COLS)
        x = MARGIN + col * (CELL_W + GAP)
        y = top + MARGIN + row * (CELL_H + GAP)
        if i < first_result:
            _draw_cell(sheet, draw, x, y, tile, query_label, no_cover)
        else:
            number = tile.number if tile.number is not None else i - first_result + 1
            _draw_cell(sheet, draw, x, y, SheetTile(tile.image, number, tile.title, tile.similarity), None, no_cover)
    return sheet


def _jpeg(sheet: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    sheet.convert("RGB").save(buf, format="JPEG", quality=quality, subsampling=0)  # 4:4:4 keeps captions crisp
    return buf.getvalue()


def encode_sheet(sheet: Image.Image) -> tuple[bytes, str]:
    """JPEG, quality 90 (lowered only if still over :data:`MAX_BYTES`). A sheet of 24 real covers is ~240 kB in
    ~4 ms; the 256-colour PNG it replaces was the same size but ~15–20 ms, most of a /similar answer's time."""
    for quality in JPEG_QUALITIES:
        data = _jpeg(sheet, quality)
        if len(data) < MAX_BYTES:
            if quality != JPEG_QUALITIES[0]:
                log.debug("contact sheet: JPEG q%d is %d bytes", quality, len(data))
            return data, "jpg"
    # Unreachable at this sheet size; kept so the size promise always holds.
    small = sheet.resize((sheet.width // 2, sheet.height // 2), Image.Resampling.BICUBIC)
    return _jpeg(small, JPEG_QUALITIES[-1]), "jpg"


def render_contact_sheet(
    query: SheetTile | None,
    tiles: list[SheetTile],
    *,
    banner: str | None = None,
    query_label: str = "QUERY",
    no_cover: str = "no cover",
) -> tuple[bytes, str]:
    """Returns (image bytes, format) where format is "jpg"; always under 1 MB.

    The grid is always 5×5: ``query`` top-left, framed and labelled ``query_label`` (e.g. "QUERY", "FROM"), then
    ``tiles`` (at most 24) in reading order, each with "#n · 87%" and its truncated title; missing covers become
    placeholders and unused cells stay blank. With ``query=None`` (an upload not to be re-posted) the tiles start at
    the top-left cell, keeping their numbers. ``banner`` adds a line across the top when given. The words
    (``query_label``, ``banner``, ``no_cover``, the titles) come in the reader's language from the caller.
    """
    return encode_sheet(render_sheet_image(query, tiles, banner=banner, query_label=query_label, no_cover=no_cover))


def encode_thumbnail(image: Image.Image | None, size: int = 256) -> bytes | None:
    """A small WebP of ``image`` (e.g. a cover) for an embed thumbnail; ``None`` for ``None``."""
    if image is None:
        return None
    thumb = image.convert("RGB")
    thumb.thumbnail((size, size))
    out = io.BytesIO()
    thumb.save(out, "WEBP", quality=80)
    return out.getvalue()
