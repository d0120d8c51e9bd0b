"""The one image loader: odd real-world files are generated here (Pillow/numpy) and must come out upright, RGB, on
white, at the model's size — or be refused with a message that says why."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, features

from core.errors import BadImageError, ImageTooLargeError
from ml.preprocess import ImageLimits, letterbox, load_panels, open_image, split_panels

RED, BLUE, WHITE, BLACK = (255, 0, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


def encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def pixel(arr: np.ndarray, x: int, y: int) -> tuple[int, ...]:
    return tuple(int(v) for v in arr[y, x])


def close(a, b, tol: int = 12) -> bool:
    return all(abs(int(p) - int(q)) <= tol for p, q in zip(a, b, strict=True))


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


# ---- orientation, modes, transparency ---------------------------------------------------------------------------


def test_exif_orientation_6_comes_out_upright():
    # Stored 40 wide × 20 tall, left half red, right half blue. Orientation 6 says: the stored first column is the
    # visual top, so the upright picture is 20 wide × 40 tall with red on top.
    stored = Image.new("RGB", (40, 20), BLUE)
    stored.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(stored, "JPEG", exif=exif.tobytes(), quality=95)
    assert Image.open(io.BytesIO(data)).size == (40, 20)  # the file itself is stored sideways

    img = open_image(data)
    arr = np.asarray(img)
    assert img.mode == "RGB"
    assert img.size == (20, 40)
    assert close(pixel(arr, 10, 5), RED)
    assert close(pixel(arr, 10, 34), BLUE)


def test_rgba_transparent_pixels_become_white_and_opaque_stay():
    img = Image.new("RGBA", (30, 10), (255, 0, 0, 0))  # fully transparent red
    img.paste((255, 0, 0, 255), (10, 0, 20, 10))  # opaque red
    img.paste((255, 0, 0, 128), (20, 0, 30, 10))  # half-transparent red
    arr = np.asarray(open_image(encode(img, "PNG")))
    assert pixel(arr, 5, 5) == WHITE
    assert pixel(arr, 15, 5) == RED
    assert close(pixel(arr, 25, 5), (255, 127, 127), tol=2)  # composited on white, not on black


def test_la_transparent_pixels_become_white():
    img = Image.new("LA", (20, 10), (0, 0))  # transparent black
    img.paste((0, 255), (10, 0, 20, 10))  # opaque black
    assert img.mode == "LA"
    arr = np.asarray(open_image(encode(img, "PNG")))
    assert pixel(arr, 5, 5) == WHITE
    assert pixel(arr, 15, 5) == BLACK


def test_palette_with_transparency_is_composited_on_white():
    img = Image.new("P", (20, 10), 0)
    img.putpalette([0, 0, 0] + list(BLUE) + [0, 0, 0] * 254)  # index 0 black (declared transparent), 1 blue
    img.paste(1, (10, 0, 20, 10))
    data = encode(img, "PNG", transparency=0)
    reopened = Image.open(io.BytesIO(data))
    assert reopened.mode == "P" and "transparency" in reopened.info

    arr = np.asarray(open_image(data))
    assert pixel(arr, 5, 5) == WHITE  # the transparent index would be black if the alpha were dropped
    assert pixel(arr, 15, 5) == BLUE


def test_cmyk_jpeg_is_converted_to_rgb_colours():
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)  # pure red in CMYK
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    img = open_image(data)
    assert img.mode == "RGB"
    assert close(pixel(np.asarray(img), 8, 8), RED)


def test_16_bit_greyscale_is_scaled_not_clipped():
    values = np.array([[0, 32768, 65535]], dtype=np.uint16).repeat(4, axis=0)
    data = encode(Image.fromarray(values), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    arr = np.asarray(open_image(data))
    assert pixel(arr, 0, 0) == (0, 0, 0)
    assert all(abs(v - 128) <= 1 for v in pixel(arr, 1, 0))  # mid-grey stays mid-grey (clipping would give 255)
    assert pixel(arr, 2, 0) == WHITE


def test_1_bit_image_becomes_black_and_white_rgb():
    img = Image.new("1", (20, 10), 0)
    img.paste(1, (10, 0, 20, 10))
    arr = np.asarray(open_image(encode(img, "PNG")))
    assert arr.shape == (10, 20, 3)
    assert pixel(arr, 5, 5) == BLACK
    assert pixel(arr, 15, 5) == WHITE


def test_greyscale_becomes_three_equal_channels():
    arr = np.asarray(open_image(encode(Image.new("L", (8, 8), 100), "PNG")))
    assert arr.shape == (8, 8, 3)
    assert pixel(arr, 3, 3) == (100, 100, 100)


def test_animated_gif_uses_the_first_frame():
    frames = [Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert close(pixel(np.asarray(open_image(data)), 8, 8), RED)


@pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WebP")
def test_animated_webp_uses_the_first_frame():
    frames = [Image.new("RGB", (16, 16), BLUE), Image.new("RGB", (16, 16), RED)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert close(pixel(np.asarray(open_image(data)), 8, 8), BLUE)


# ---- geometry: strips and letterbox ----------------------------------------------------------------------------


def test_very_tall_strip_is_split_into_square_panels_top_to_bottom():
    strip = Image.new("RGB", (100, 2000), BLUE)
    strip.paste(RED, (0, 0, 100, 300))  # the strip starts red and ends blue
    panels = load_panels(encode(strip, "PNG"), 32)
    assert panels.dtype == np.uint8
    assert panels.ndim == 4 and panels.shape[1:] == (32, 32, 3)
    assert 2 <= len(panels) <= ImageLimits().max_panels
    assert close(pixel(panels[0], 16, 16), RED)
    assert close(pixel(panels[-1], 16, 16), BLUE)


def test_strip_panels_run_from_the_top_to_the_bottom():
    rows = np.arange(2000)
    encoded = np.stack([rows // 256, rows % 256, np.zeros_like(rows)], axis=1).astype(np.uint8)  # row y → colour
    strip = Image.fromarray(np.repeat(encoded[:, None, :], 100, axis=1), "RGB")
    pieces = split_panels(strip)
    assert 2 <= len(pieces) <= ImageLimits().max_panels
    assert all(p.size[0] == 100 for p in pieces)

    def row_of(panel: Image.Image, y: int) -> int:
        r, g, _ = panel.getpixel((50, y))
        return r * 256 + g

    assert row_of(pieces[0], 0) == 0
    assert row_of(pieces[-1], pieces[-1].size[1] - 1) == 1999
    starts = [row_of(p, 0) for p in pieces]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)  # in reading order, no duplicates


def test_ordinary_cover_is_not_split():
    assert load_panels(encode(Image.new("RGB", (60, 80), RED), "PNG"), 32).shape == (1, 32, 32, 3)


def test_letterbox_keeps_aspect_with_white_bars():
    arr = letterbox(Image.new("RGB", (200, 100), RED), 64)  # 2:1 → 64×32 in the middle of a white square
    assert arr.shape == (64, 64, 3) and arr.dtype == np.uint8
    assert pixel(arr, 32, 2) == WHITE  # top bar
    assert pixel(arr, 32, 61) == WHITE  # bottom bar
    assert pixel(arr, 0, 32) == RED and pixel(arr, 63, 32) == RED  # full width used
    red_rows = [y for y in range(64) if pixel(arr, 32, y) == RED]
    assert 30 <= len(red_rows) <= 34 and red_rows[0] >= 15


def test_path_and_bytes_give_the_same_array(tmp_path):
    img = noise(70, 50)
    data = encode(img, "PNG")
    path = tmp_path / "cover.png"
    path.write_bytes(data)
    from_path = load_panels(path, 48)
    from_str = load_panels(str(path), 48)
    from_bytes = load_panels(data, 48)
    assert from_path.shape == (1, 48, 48, 3)
    np.testing.assert_array_equal(from_path, from_bytes)
    np.testing.assert_array_equal(from_str, from_bytes)


# ---- refusals -------------------------------------------------------------------------------------------------


def test_decompression_bomb_is_refused_before_decoding():
    data = encode(Image.new("1", (20000, 20000)), "PNG")
    assert len(data) < 200_000  # tiny file, 400 megapixels
    with pytest.raises(ImageTooLargeError, match="too large"):
        open_image(data)


def test_image_over_the_pixel_limit_is_refused_naming_its_size():
    data = encode(Image.new("1", (3000, 3000)), "PNG")
    with pytest.raises(ImageTooLargeError) as info:
        open_image(data, ImageLimits(max_pixels=1_000_000))
    assert "3000×3000" in str(info.value) and "megapixels" in str(info.value)


def test_bytes_over_max_bytes_are_refused_with_readable_sizes():
    data = encode(noise(64, 64), "PNG")
    assert len(data) > 1000
    with pytest.raises(ImageTooLargeError) as info:
        open_image(data, ImageLimits(max_bytes=1000))
    message = str(info.value)
    assert "limit is 1000 bytes" in message
    assert "0 MB" not in message


def test_file_over_max_bytes_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(encode(noise(64, 64), "PNG"))
    with pytest.raises(ImageTooLargeError) as info:
        load_panels(path, 32, ImageLimits(max_bytes=1000))
    assert str(info.value).startswith("huge.png: file is ")
    assert "limit is 1000 bytes" in str(info.value)


def test_empty_bytes_are_refused():
    with pytest.raises(BadImageError, match="empty"):
        open_image(b"")


@pytest.mark.parametrize(
    "data",
    [b"just some text, not a picture\n", b"<!DOCTYPE html><html><body><img src='x.png'></body></html>"],
    ids=["text", "html"],
)
def test_non_image_bytes_are_refused_as_not_an_image(data):
    with pytest.raises(BadImageError) as info:
        open_image(data)
    assert not isinstance(info.value, ImageTooLargeError)
    assert "not an image" in str(info.value)
    assert "PNG" in str(info.value)  # says what would work


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file_is_refused_as_corrupt_or_truncated(fmt):
    data = encode(noise(200, 200), fmt)
    with pytest.raises(BadImageError) as info:
        open_image(data[: len(data) // 2])
    assert "corrupt or truncated" in str(info.value)


def test_missing_path_is_refused_naming_the_file(tmp_path):
    with pytest.raises(BadImageError) as info:
        load_panels(tmp_path / "nowhere.png", 32)
    assert "nowhere.png" in str(info.value) and "cannot read file" in str(info.value)


def test_folder_instead_of_file_is_a_clear_error(tmp_path):
    folder = tmp_path / "covers"
    folder.mkdir()
    with pytest.raises(BadImageError, match="covers: cannot read file"):
        open_image(folder)
