"""The 5×5 contact sheet: layout, Korean text, odd covers, banner, size limit and the WebP fallback."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ml.serve.contact_sheet as cs
from ml.serve import TITLES_PER_ANSWER
from ml.serve.contact_sheet import SheetTile, render_contact_sheet, render_sheet_image

KOREAN_TITLES = [
    "전지적 독자 시점",
    "나 혼자만 레벨업",
    "여신강림",
    "외모지상주의",
    "화산귀환",
    "재혼 황후",
    "유미의 세포들",
    "신의 탑",
    "마음의소리",
    "이태원 클라쓰",
    "연애혁명",
    "사신소년",
    "김부장",
    "참교육",
    "싸움독학",
    "내일",
    "가비지타임",
    "호랑이형님",
    "프리드로우",
    "복학왕",
    "언니, 이번 생엔 내가 왕비야 — 아주 아주 긴 제목이 잘리는지 확인",
    "독립일기",
    "소녀의 세계",
    "스위트홈",
]


def cover(i: int, size=(125, 101)) -> Image.Image:
    """A smooth, distinct, PNG-friendly test cover."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([(x * 255 // max(w, 1) + 37 * i) % 256, (y * 255 // max(h, 1)) % 256, np.full_like(x, 20 * i % 256)])
    return Image.fromarray(rgb.transpose(1, 2, 0).astype(np.uint8), "RGB")


def full_tiles(n: int = 24) -> list[SheetTile]:
    return [SheetTile(cover(i), i, KOREAN_TITLES[i - 1], 0.99 - i * 0.02) for i in range(1, n + 1)]


QUERY = SheetTile(cover(0, (308, 400)), None, "검색 이미지", None)


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def cell_origin(index: int, banner: bool = False) -> tuple[int, int]:
    row, col = divmod(index, cs.COLS)
    top = cs.BANNER_H if banner else 0
    return cs.MARGIN + col * (cs.CELL_W + cs.GAP), top + cs.MARGIN + row * (cs.CELL_H + cs.GAP)


def region(img: Image.Image | np.ndarray, index: int, *, banner: bool = False, caption: bool = False) -> np.ndarray:
    """The pixels of one cell (or of its caption strip)."""
    pixels = img if isinstance(img, np.ndarray) else np.asarray(img.convert("RGB"))
    x, y = cell_origin(index, banner)
    top = y + cs.IMAGE_H if caption else y
    return pixels[top : y + cs.CELL_H, x : x + cs.CELL_W]


def test_full_sheet_with_korean_titles():
    data, fmt = render_contact_sheet(QUERY, full_tiles())
    img = decode(data)
    assert fmt == "jpg" and img.format == "JPEG"
    assert img.size == cs.sheet_size(banner=False) == (cs.GRID_W, cs.GRID_H)
    assert cs.GRID_W == 2 * cs.MARGIN + 5 * cs.CELL_W + 4 * cs.GAP
    assert cs.GRID_H == 2 * cs.MARGIN + 5 * cs.CELL_H + 4 * cs.GAP
    assert len(data) < 1_000_000
    pixels = np.asarray(img.convert("RGB"))
    for i in range(25):  # every cell is occupied: its caption strip carries text (pixels other than the cell colour)
        strip = region(pixels, i, caption=True)[:, 4:-4]
        assert (strip != np.array(cs.CELL_BG, dtype=np.uint8)).any(axis=-1).sum() > 100, i


def test_one_answer_and_the_query_fill_the_grid_exactly():
    assert cs.MAX_TILES == TITLES_PER_ANSWER
    assert cs.COLS * cs.ROWS == TITLES_PER_ANSWER + 1
    with pytest.raises(ValueError, match="at most"):
        render_sheet_image(QUERY, full_tiles(TITLES_PER_ANSWER) + full_tiles(1))


def test_a_result_cell_shows_its_cover_as_fit_cover_draws_it():
    sheet = np.asarray(render_sheet_image(QUERY, full_tiles(2)))
    fitted = cs.fit_cover(cover(1))
    assert fitted.size == (cs.CELL_W, cs.IMAGE_H)
    assert (region(sheet, 1)[: cs.IMAGE_H] == np.asarray(fitted)).all()
    assert (np.asarray(fitted)[0, 0] == cs.LETTERBOX).all()  # a wide cover: dark bars above and below


def test_jpeg_is_a_faithful_copy_of_the_sheet():
    sheet = render_sheet_image(QUERY, full_tiles(), banner="[DEMO] synthetic catalogue")
    data, fmt = cs.encode_sheet(sheet)
    decoded = decode(data)
    assert fmt == "jpg" and decoded.mode == "RGB" and decoded.size == sheet.size
    error = np.abs(np.asarray(decoded, dtype=np.int16) - np.asarray(sheet, dtype=np.int16))
    assert error.mean() < 4  # quality 90, no chroma subsampling: close, not exact


def test_font_comes_from_koreanize_matplotlib():
    import importlib.util

    package_dir = Path(importlib.util.find_spec("koreanize_matplotlib").origin).parent
    assert cs.font_file(bold=False) == "NanumGothic.ttf"
    assert cs.font_file(bold=True) == "NanumGothicBold.ttf"
    for name in (cs.font_file(False), cs.font_file(True)):
        assert list(package_dir.rglob(name)), name
        assert cs._nanum_fonts()[name].parent.is_relative_to(package_dir)
    assert cs.load_font(12) is cs.load_font(12)  # cached


def test_fonts_are_located_without_importing_koreanize_matplotlib_or_matplotlib():
    """koreanize_matplotlib imports matplotlib (slow, heavy): the sheet only reads its font files. Checked in a fresh
    interpreter, since this test process may have imported either for other reasons."""
    probe = (
        "import sys\n"
        "import ml.serve.contact_sheet as cs\n"
        "cs.load_font(12), cs.load_font(12, bold=True)\n"
        "print(sorted(m for m in ('koreanize_matplotlib', 'matplotlib') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_hangul_glyphs_are_not_tofu():
    font = cs.load_font(32)

    def bitmap(ch: str) -> np.ndarray:
        img = Image.new("L", (48, 48), 0)
        from PIL import ImageDraw

        ImageDraw.Draw(img).text((4, 4), ch, font=font, fill=255)
        return np.asarray(img)

    ga, hih, gak = bitmap("가"), bitmap("힣"), bitmap("각")
    tofu = bitmap("\ue000")  # private use area: certainly not in the font, drawn as .notdef
    assert ga.any() and hih.any() and gak.any()
    assert not np.array_equal(ga, hih) and not np.array_equal(ga, gak)
    assert not np.array_equal(ga, tofu) and not np.array_equal(hih, tofu)
    for ch in "가힣각한글":
        left, top, right, bottom = font.getmask(ch).getbbox()
        assert right - left > 8 and bottom - top > 8


def test_korean_titles_reach_the_sheet():
    a = render_sheet_image(QUERY, [SheetTile(cover(1), 1, "가나다라", 0.9)])
    b = render_sheet_image(QUERY, [SheetTile(cover(1), 1, "하파타카", 0.9)])
    assert not np.array_equal(region(a, 1, caption=True), region(b, 1, caption=True))
    assert np.array_equal(region(a, 0), region(b, 0))


def test_long_titles_are_truncated_with_an_ellipsis():
    font = cs.load_font(12)
    long = KOREAN_TITLES[20]
    short = cs.truncate(long, font, 138)
    assert short.endswith("…") and len(short) < len(long) and font.getlength(short) <= 138
    assert cs.truncate("복학왕", font, 138) == "복학왕"
    assert cs.truncate("  여러   줄\n제목 ", font, 138) == "여러 줄 제목"


def test_fewer_tiles_leave_blank_cells():
    sheet = render_sheet_image(QUERY, full_tiles(3))
    assert sheet.size == cs.sheet_size(banner=False)
    img = np.asarray(sheet)
    for i in range(4, 25):
        cell = region(img, i)
        assert (cell == np.array(cs.BG, dtype=np.uint8)).all(), i
    assert not (region(img, 3) == np.array(cs.BG, dtype=np.uint8)).all()
    data, fmt = render_contact_sheet(QUERY, [])
    assert decode(data).size == cs.sheet_size(banner=False) and fmt == "jpg"


def test_without_the_query_the_results_fill_the_grid_from_the_top_left():
    """An upload left out (upload screening): #1 takes the query's cell, numbers unchanged, the last cell blank."""
    with_query = np.asarray(render_sheet_image(QUERY, full_tiles()))
    without = np.asarray(render_sheet_image(None, full_tiles()))
    assert without.shape == with_query.shape  # the same 5×5 layout
    for i in range(24):  # result n sits one cell earlier, drawn exactly as before
        assert np.array_equal(region(without, i), region(with_query, i + 1)), i
    assert (region(without, 24) == np.array(cs.BG, dtype=np.uint8)).all()
    accent = np.array(cs.ACCENT, dtype=np.uint8)
    assert (region(with_query, 0)[:, : cs.FRAME] == accent).all()  # the framed query tile …
    assert not (region(without, 0)[:, : cs.FRAME] == accent).all(axis=-1).any()  # … is nowhere
    data, fmt = render_contact_sheet(None, full_tiles(3), banner="[DEMO] synthetic catalogue")
    assert fmt == "jpg" and decode(data).size == cs.sheet_size(banner=True)


def test_missing_cover_draws_a_placeholder_with_the_title():
    tiles = full_tiles(4)
    tiles[1] = SheetTile(None, 2, "표지 없는 아주 아주 긴 웹툰 제목입니다", 0.8)
    img = render_sheet_image(SheetTile(None, None, "원본 작품", None), tiles, query_label="FROM")
    placeholder = region(img, 2)[: cs.IMAGE_H]
    assert (placeholder == np.array(cs.PLACEHOLDER_BG, dtype=np.uint8)).all(axis=-1).mean() > 0.7
    assert (placeholder == np.array(cs.TEXT, dtype=np.uint8)).all(axis=-1).any()  # the wrapped title
    query = region(img, 0)
    assert (query[1, :] == np.array(cs.ACCENT, dtype=np.uint8)).all()  # the query frame


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGB", (10, 4000), (200, 10, 10)),  # very tall
        Image.new("RGB", (3000, 12), (10, 200, 10)),  # very wide
        Image.new("RGB", (1, 1), (255, 255, 255)),  # tiny
        Image.new("RGBA", (64, 80), (255, 0, 0, 0)),  # fully transparent
        Image.new("RGBA", (64, 80), (0, 0, 255, 128)),
        Image.new("LA", (50, 50), (128, 200)),
        Image.new("L", (300, 200), 90),
        Image.new("1", (40, 40), 1),
        Image.new("CMYK", (40, 60), (0, 255, 255, 0)),
        Image.new("I;16", (60, 60), 40000),
        Image.new("F", (60, 60), 3.5),
        cover(5, (4000, 3000)),  # huge
        Image.new("P", (30, 30), 3),
    ],
    ids=["tall", "wide", "1x1", "rgba-clear", "rgba-half", "LA", "L", "1", "CMYK", "I16", "F", "huge", "P"],
)
def test_odd_covers(image):
    tiles = [SheetTile(image, 1, "이상한 표지", 0.5), *full_tiles(2)[1:]]
    data, fmt = render_contact_sheet(SheetTile(image, None, "질의", None), tiles)
    img = decode(data)
    assert img.size == cs.sheet_size(banner=False) and len(data) < 1_000_000
    drawn = render_sheet_image(SheetTile(image, None, "질의", None), tiles)  # exact pixels: before the lossy JPEG
    cell = region(drawn, 1)[: cs.IMAGE_H]
    if image.size == (10, 4000):  # letterboxed: neutral bars left and right, the cover in the middle
        assert (cell[:, 0] == np.array(cs.LETTERBOX, dtype=np.uint8)).all()
        middle = cell[cs.IMAGE_H // 2]
        assert (middle == (200, 10, 10)).all(axis=-1).sum() == 1  # scaled to 1 px wide, centred
        assert (middle[cs.CELL_W // 2 - 2 : cs.CELL_W // 2 + 2] == (200, 10, 10)).all(axis=-1).any()
    if image.size == (3000, 12):
        assert (cell[0] == np.array(cs.LETTERBOX, dtype=np.uint8)).all()


def test_palette_with_transparency_and_broken_covers():
    pal = Image.new("P", (40, 40), 0)
    pal.putpalette([255, 0, 0] * 256)
    pal.info["transparency"] = 0
    buf = io.BytesIO()
    cover(3, (400, 300)).save(buf, format="JPEG")
    truncated = Image.open(io.BytesIO(buf.getvalue()[:2000]))  # lazily opened; fails on load
    tiles = [SheetTile(pal, 1, "투명", 0.9), SheetTile(truncated, 2, "깨진 표지", 0.8)]
    img = render_sheet_image(QUERY, tiles)
    assert (region(img, 1)[5, 5] == np.array(cs.LETTERBOX, dtype=np.uint8)).all()  # transparent → background
    broken = region(img, 2)[: cs.IMAGE_H]
    assert (broken == np.array(cs.PLACEHOLDER_BG, dtype=np.uint8)).all(axis=-1).mean() > 0.7


def test_banner():
    text = "no close match — these are the nearest styles · [DEMO] synthetic catalogue"
    data, _ = render_contact_sheet(QUERY, full_tiles(5), banner=text)
    img = decode(data).convert("RGB")
    assert img.size == cs.sheet_size(banner=True) == (cs.GRID_W, cs.GRID_H + cs.BANNER_H)
    strip = np.asarray(img)[: cs.BANNER_H]

    def near(colour):  # JPEG is lossy: UI colours survive within a small tolerance
        return (np.abs(strip.astype(np.int16) - np.array(colour)) <= 12).all(axis=-1)

    assert near(cs.BANNER_BG).mean() > 0.6 and near(cs.TEXT).any()
    # the grid moved down by the banner: the query frame starts below it
    frame = np.asarray(img)[cs.BANNER_H + cs.MARGIN + 1, cs.MARGIN + 20].astype(np.int16)
    assert (np.abs(frame - np.array(cs.ACCENT)) <= 12).all()
    plain = decode(render_contact_sheet(QUERY, full_tiles(5), banner="   ")[0])
    assert plain.size == cs.sheet_size(banner=False)  # a blank banner is no banner


def test_numbers_and_similarity_in_captions():
    tiles = [SheetTile(cover(1), None, "번호 없음", 1.7), SheetTile(cover(2), 2, "유사도 없음", None)]
    img = render_sheet_image(QUERY, tiles)  # number None → its position; similarity clamped; None → no %
    assert cs._percent(1.7) == "100%" and cs._percent(-0.2) == "0%" and cs._percent(0.874) == "87%"
    assert not np.array_equal(region(img, 1, caption=True), region(img, 2, caption=True))
    with pytest.raises(ValueError, match="at most 24"):
        render_sheet_image(QUERY, full_tiles(24) + full_tiles(1))


def test_lower_quality_when_the_first_is_too_big(monkeypatch):
    first, fmt = render_contact_sheet(QUERY, full_tiles())
    assert fmt == "jpg"
    monkeypatch.setattr(cs, "MAX_BYTES", len(first) - 1)
    data, fmt = render_contact_sheet(QUERY, full_tiles())
    img = decode(data)
    assert fmt == "jpg" and img.format == "JPEG"
    assert img.size == cs.sheet_size(banner=False) and len(data) < len(first) - 1


def test_noisy_covers_stay_under_1mb():
    rng = np.random.default_rng(0)
    noise = [Image.fromarray(rng.integers(0, 256, (146, 150, 3), dtype=np.uint8)) for _ in range(25)]
    tiles = [SheetTile(noise[i], i, KOREAN_TITLES[i - 1], 0.5) for i in range(1, 25)]
    data, fmt = render_contact_sheet(SheetTile(noise[0], None, "잡음", None), tiles)
    assert fmt == "jpg" and len(data) < 1_000_000
    assert decode(data).size == cs.sheet_size(banner=False)


def test_concurrent_renders_are_identical():
    expected, _ = render_contact_sheet(QUERY, full_tiles(8), banner="동시 렌더링")
    results: list[bytes] = []

    def work():
        results.append(render_contact_sheet(QUERY, full_tiles(8), banner="동시 렌더링")[0])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


def test_font_fallback_and_clear_error(monkeypatch):
    pick = cs.font_file.__wrapped__
    monkeypatch.setattr(cs, "_nanum_fonts", lambda: {"NanumGothicLight.ttf": object()})
    assert pick(False) == "NanumGothicLight.ttf" and pick(True) == "NanumGothicLight.ttf"
    monkeypatch.setattr(cs, "_nanum_fonts", lambda: {"NanumMyeongjo.ttf": object()})
    assert pick(False) == "NanumMyeongjo.ttf"
    monkeypatch.setattr(cs, "_nanum_fonts", dict)
    with pytest.raises(cs.FontNotFoundError, match="koreanize"):
        pick(False)
    monkeypatch.undo()
    monkeypatch.setattr(cs, "FONT_PACKAGE", "no_such_font_package_xyz")
    with pytest.raises(cs.FontNotFoundError, match="not installed"):
        cs._nanum_fonts.__wrapped__()


def test_ml_contact_sheet_has_no_bot_dependencies():
    import ast

    tree = ast.parse(Path(cs.__file__).read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"discord", "sqlalchemy"}
