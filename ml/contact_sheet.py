"""The 5×5 contact sheet: the query (or source title's cover) top-left, then up to 24 numbered results.

Pure Pillow, no system fonts: text is drawn with the NanumGothic TTFs shipped inside the ``koreanize_matplotlib``
package, so Korean titles render the same everywhere. The sheet is encoded as PNG, or as WebP when the PNG would be
1 MB or more (Discord previews both).
"""

from __future__ import annotations

import functools
import importlib.resources
import io
import logging
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, ImageOps

log = logging.getLogger(__name__)

# ---- layout -------------------------------------------------------------------------------------------------------
COLS = ROWS = 5
MAX_TILES = COLS * ROWS - 1  # 24 results + the query
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
PNG_COMPRESS_LEVEL = 6
WEBP_QUALITIES = (85, 75, 60, 45, 30)
WEBP_METHOD = 4

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
def _nanum_fonts() -> dict[str, object]:
    """Every Nanum font file shipped in the package: file name -> Traversable (searched recursively, once)."""
    try:
        root = importlib.resources.files(FONT_PACKAGE)
    except ModuleNotFoundError as e:
        raise FontNotFoundError(
            f"the '{FONT_PACKAGE}' package is not installed; it ships the NanumGothic fonts the contact sheet needs "
            f"(pip install koreanize-matplotlib)"
        ) from e
    found: dict[str, object] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.iterdir():
            if child.is_dir():
                stack.append(child)
            elif child.name.lower().startswith("nanum") and child.name.lower().endswith((".ttf", ".otf", ".ttc")):
                found.setdefault(child.name, child)
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
def _font_bytes(name: str) -> bytes:
    return _nanum_fonts()[name].read_bytes()  # type: ignore[attr-defined]  # works for wheels and zipped installs


@functools.cache
def load_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A cached Nanum font at ``size`` px (basic layout: Hangul syllables need no shaping, and it is faster)."""
    return ImageFont.truetype(io.BytesIO(_font_bytes(font_file(bold))), size, layout_engine=ImageFont.Layout.BASIC)


# ---- text helpers -------------------------------------------------------------------------------------------------
def _clean(text: str) -> str:
    return " ".join(str(text).split())


def truncate(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """``text`` on one line, cut with "…" so it fits ``width`` px."""
    text = _clean(text)
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


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float, max_lines: int) -> list[str]:
    """Greedy wrap at spaces, breaking inside words (Korean titles often have none) when a word is too long."""
    lines: list[str] = []
    rest = _clean(text)
    while rest and len(lines) < max_lines:
        if font.getlength(rest) <= width:
            lines.append(rest)
            rest = ""
            break
        cut = len(rest)
        while cut > 1 and font.getlength(rest[:cut]) > width:
            cut -= 1
        space = rest.rfind(" ", 0, cut + 1)
        if space > 0:
            cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest and lines:
        lines[-1] = truncate(lines[-1] + " " + rest, font, width)
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
def _letterbox(img: Image.Image, box: tuple[int, int]) -> Image.Image:
    """``img`` scaled to fit ``box`` (aspect ratio kept), centred on a neutral background."""
    bw, bh = box
    orientation = img.getexif().get(0x0112, 1) if hasattr(img, "getexif") else 1
    if orientation != 1:
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
        resample = Image.Resampling.BICUBIC if scale < 1 else Image.Resampling.BILINEAR
        img = img.resize(size, resample, reducing_gap=2.0)
    out = Image.new("RGB", box, LETTERBOX)
    pos = ((bw - size[0]) // 2, (bh - size[1]) // 2)
    out.paste(img, pos, img if has_alpha else None)
    return out


def _placeholder(title: str, box: tuple[int, int]) -> Image.Image:
    """A tile for a missing cover: the title, wrapped and centred."""
    out = Image.new("RGB", box, PLACEHOLDER_BG)
    draw = ImageDraw.Draw(out)
    font, small = load_font(14, bold=True), load_font(11)
    lines = _wrap(title, font, box[0] - 2 * TEXT_PAD - 4, 4) or ["?"]
    line_h = 18
    total = len(lines) * line_h + 16
    y = (box[1] - total) // 2
    for line in lines:
        draw.text((box[0] / 2, y), line, font=font, fill=TEXT, anchor="mt")
        y += line_h
    draw.text((box[0] / 2, y + 4), "no cover", font=small, fill=MUTED, anchor="mt")
    return out


def _cover(tile: SheetTile, box: tuple[int, int]) -> Image.Image:
    if tile.image is None:
        return _placeholder(tile.title, box)
    try:
        return _letterbox(tile.image, box)
    except Exception as e:  # a broken cover must not break the sheet
        log.warning("contact sheet: unusable cover for %r (%s); drawing a placeholder", tile.title, e)
        return _placeholder(tile.title, box)


# ---- drawing ------------------------------------------------------------------------------------------------------
def _draw_cell(sheet: Image.Image, draw: ImageDraw.ImageDraw, x: int, y: int, tile: SheetTile, label: str | None):
    """One cell at (x, y). ``label`` is set for the query tile (framed, labelled, no number)."""
    draw.rectangle((x, y, x + CELL_W - 1, y + CELL_H - 1), fill=CELL_BG)
    sheet.paste(_cover(tile, (CELL_W, IMAGE_H)), (x, y))
    bold, regular = load_font(14, bold=True), load_font(12)
    text_w = CELL_W - 2 * TEXT_PAD
    line1_y, line2_y = y + IMAGE_H + 5, y + IMAGE_H + 24
    if label is not None:
        for i in range(FRAME):
            draw.rectangle((x + i, y + i, x + CELL_W - 1 - i, y + CELL_H - 1 - i), outline=ACCENT)
        pill_font = load_font(12, bold=True)
        pill_text = truncate(label, pill_font, CELL_W - 2 * FRAME - 16)
        pw = round(pill_font.getlength(pill_text)) + 12
        draw.rectangle((x + FRAME, y + FRAME, x + FRAME + pw, y + FRAME + 19), fill=ACCENT)
        draw.text((x + FRAME + 6, y + FRAME + 10), pill_text, font=pill_font, fill=ACCENT_TEXT, anchor="lm")
        draw.text((x + TEXT_PAD + 1, line1_y), truncate(label, bold, text_w - 2), font=bold, fill=ACCENT)
    else:
        head = f"#{tile.number}"
        draw.text((x + TEXT_PAD, line1_y), head, font=bold, fill=TEXT)
        if tile.similarity is not None:
            sep_x = x + TEXT_PAD + bold.getlength(head)
            draw.text((sep_x, line1_y), " · ", font=bold, fill=MUTED)
            draw.text(
                (sep_x + bold.getlength(" · "), line1_y),
                _percent(tile.similarity),
                font=bold,
                fill=_similarity_colour(float(tile.similarity)),
            )
    draw.text(
        (x + TEXT_PAD + (1 if label else 0), line2_y),
        truncate(tile.title, regular, text_w - 2),
        font=regular,
        fill=MUTED if label is None else TEXT,
    )


def _draw_banner(draw: ImageDraw.ImageDraw, text: str, top: int):
    draw.rectangle((0, top, GRID_W - 1, top + BANNER_H - 1), fill=BANNER_BG)
    font = load_font(14, bold=True)
    draw.text((GRID_W / 2, top + BANNER_H / 2), truncate(text, font, GRID_W - 24), font=font, fill=TEXT, anchor="mm")


def sheet_size(banner: bool) -> tuple[int, int]:
    """Pixel size of a sheet with or without the banner strip."""
    return GRID_W, GRID_H + (BANNER_H if banner else 0)


def render_sheet_image(
    query: SheetTile, tiles: list[SheetTile], *, banner: str | None = None, query_label: str = "QUERY"
) -> Image.Image:
    """The sheet as an RGB image (see :func:`render_contact_sheet`)."""
    if len(tiles) > MAX_TILES:
        raise ValueError(f"a contact sheet holds at most {MAX_TILES} results, got {len(tiles)}")
    banner = _clean(banner) if banner else None
    top = BANNER_H if banner else 0
    sheet = Image.new("RGB", sheet_size(bool(banner)), BG)
    draw = ImageDraw.Draw(sheet)
    if banner:
        _draw_banner(draw, banner, 0)
    for i, tile in enumerate([query, *tiles]):
        row, col = divmod(i, COLS)
        x = MARGIN + col * (CELL_W + GAP)
        y = top + MARGIN + row * (CELL_H + GAP)
        if i == 0:
            _draw_cell(sheet, draw, x, y, tile, query_label)
        else:
            number = tile.number if tile.number is not None else i
            _draw_cell(sheet, draw, x, y, SheetTile(tile.image, number, tile.title, tile.similarity), None)
    return sheet


def encode_sheet(sheet: Image.Image) -> tuple[bytes, str]:
    """PNG when it is under :data:`MAX_BYTES`, else WebP (quality 85, lowered further only if still too big)."""
    buf = io.BytesIO()
    sheet.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    if buf.tell() < MAX_BYTES:
        return buf.getvalue(), "png"
    size = buf.tell()
    for quality in WEBP_QUALITIES:
        buf = io.BytesIO()
        sheet.save(buf, format="WEBP", quality=quality, method=WEBP_METHOD)
        if buf.tell() < MAX_BYTES:
            log.debug("contact sheet: PNG was %d bytes; WebP q%d is %d bytes", size, quality, buf.tell())
            return buf.getvalue(), "webp"
    scale = 0.5  # unreachable at this sheet size; kept so the size promise always holds
    small = sheet.resize((round(sheet.width * scale), round(sheet.height * scale)), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    small.save(buf, format="WEBP", quality=WEBP_QUALITIES[-1], method=WEBP_METHOD)
    return buf.getvalue(), "webp"


def render_contact_sheet(
    query: SheetTile, tiles: list[SheetTile], *, banner: str | None = None, query_label: str = "QUERY"
) -> tuple[bytes, str]:
    """Returns (image bytes, format) where format is "png" or "webp"; always under 1 MB.

    The grid is always 5×5: ``query`` top-left, framed and labelled ``query_label`` (e.g. "QUERY", "FROM"), then
    ``tiles`` (at most 24) in reading order, each with "#n · 87%" and its truncated title; missing covers become
    placeholders and unused cells stay blank. ``banner`` adds a line across the top when given.
    """
    return encode_sheet(render_sheet_image(query, tiles, banner=banner, query_label=query_label))
