"""Upload screening in the engine and the recommender: the serving model's optional ``nsfw`` output, read from the
same call as the embedding (``tests/helpers/nsfw_run.py``: plain red looks explicit, covers do not)."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import discord
import numpy as np
import pytest
from PIL import Image

from catalog.format import load_catalog
from core.errors import RunFolderError
from ml.serve import contact_sheet as cs
from ml.serve.engine import Engine
from ml.serve.recommender import Recommender
from ml.serve.results import ModelOutputs, UploadScreen
from tests.helpers.nsfw_run import NSFW_CLASSES, red_square, shows_query_tile
from tests.ml.serve.constructed import make_engine


@pytest.fixture(scope="module")
def screening_engine(nsfw_run) -> Engine:
    return Engine.load(nsfw_run)


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def strip_with_red_panel(cover_path) -> bytes:
    """A tall strip of three 200×280 panels: cover, plain red, cover."""
    cover = Image.open(cover_path).convert("RGB").resize((200, 280))
    strip = Image.new("RGB", (200, 840), "white")
    strip.paste(cover, (0, 0))
    strip.paste(Image.new("RGB", (200, 280), (255, 0, 0)), (0, 280))
    strip.paste(cover, (0, 560))
    return png(strip)


# ---- the rule on given probabilities (no model) ------------------------------------------------------------------


def test_explicit_is_porn_plus_hentai_of_the_most_explicit_panel():
    rows = np.array(
        [  # Drawing, Hentai, Neutral, Porn, Sexy
            [0.1, 0.0, 0.8, 0.05, 0.05],
            [0.0, 0.3, 0.1, 0.4, 0.2],  # explicit 0.7: this panel speaks for the image
            [0.0, 0.0, 0.2, 0.1, 0.7],  # very "Sexy", but that is not explicit
        ]
    )
    screen = UploadScreen.of_panels(rows, NSFW_CLASSES)
    assert screen.panels == 3
    assert screen.probabilities == pytest.approx(dict(zip(NSFW_CLASSES, rows[1], strict=True)))
    assert screen.explicit == pytest.approx(0.7)
    assert screen.to_json()["explicit"] == 0.7 and list(screen.to_json()["probabilities"]) == list(NSFW_CLASSES)
    assert UploadScreen({"Porn": 0.5, "Hentai": 0.45, "Neutral": 0.05}).explicit == pytest.approx(0.95)


def test_no_nsfw_output_or_no_classes_means_no_screen():
    assert UploadScreen.of_panels(None, NSFW_CLASSES) is None
    assert UploadScreen.of_panels(np.full((1, 5), 0.2), ()) is None
    assert not make_engine().screens_uploads and make_engine(nsfw_classes=NSFW_CLASSES).screens_uploads


def test_the_nsfw_output_of_the_one_model_call_becomes_the_answers_screen():
    emb, genre, nsfw = np.ones((2, 12)), np.full((2, 4), 0.25), np.tile([0.0, 0.5, 0.0, 0.5, 0.0], (2, 1))
    engine = make_engine(model=lambda batch: ModelOutputs(emb, genre, nsfw), nsfw_classes=NSFW_CLASSES)
    answer = engine.similar(red_square())
    assert answer.screen.explicit == pytest.approx(1.0) and answer.screen.panels == 2
    assert answer.results and answer.genres
    without = make_engine(model=lambda batch: ModelOutputs(emb, genre), nsfw_classes=NSFW_CLASSES)
    assert without.similar(red_square()).screen is None


# ---- a real run whose serving model has the nsfw output ---------------------------------------------------------


def test_loaded_engine_screens_uploads_from_the_same_model_call(screening_engine, scratch_engine, cover_title):
    assert screening_engine.screens_uploads and screening_engine.nsfw_classes == NSFW_CLASSES
    explicit = screening_engine.similar(red_square())
    assert explicit.screen.explicit > 0.99 and explicit.screen.panels == 1
    assert explicit.results  # still answered
    safe = screening_engine.similar(cover_title.cover.read_bytes())
    probabilities = safe.screen.probabilities
    assert safe.screen.explicit < 0.05 and max(probabilities, key=probabilities.get) == "Neutral"
    assert sum(safe.screen.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    same = scratch_engine.similar(cover_title.cover.read_bytes())  # the head changes nothing else
    assert [r.title.id for r in safe.results] == [r.title.id for r in same.results]
    assert [g.genre for g in safe.genres] == [g.genre for g in same.genres]
    assert safe.to_json()["screen"]["explicit"] < 0.05


def test_a_tall_strip_is_as_explicit_as_its_most_explicit_panel(screening_engine, cover_title):
    answer = screening_engine.similar(strip_with_red_panel(cover_title.cover))
    assert answer.panels == 3 and answer.screen.panels == 3
    assert answer.screen.explicit > 0.99


def test_a_run_without_nsfw_output_screens_nothing(scratch_engine, cover_title):
    assert not scratch_engine.screens_uploads
    answer = scratch_engine.similar(red_square())
    assert answer.screen is None and "screen" not in answer.to_json()


def test_the_pretrained_path_serves_the_nsfw_output_of_the_backbone_in_the_same_call(tiny_pretrained_run, cover_title):
    """The run built through the pretrained path screens with the backbone's own head (random weights here: the
    probabilities are checked, not the decision — the real backbone's decision is tested where it is cached)."""
    engine = Engine.load(tiny_pretrained_run)
    assert engine.screens_uploads and engine.nsfw_classes == NSFW_CLASSES
    answer = engine.similar(strip_with_red_panel(cover_title.cover))
    assert answer.screen.panels == answer.panels == 3 and answer.results
    assert set(answer.screen.probabilities) == set(NSFW_CLASSES)
    assert sum(answer.screen.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert answer.screen.explicit == pytest.approx(
        answer.screen.probabilities["Porn"] + answer.screen.probabilities["Hentai"], abs=1e-6
    )


def test_the_contact_sheet_can_leave_the_query_out(screening_engine):
    answer = screening_engine.similar(red_square())
    query = Image.new("RGB", (256, 256), (255, 0, 0))
    with_tile, _ = screening_engine.contact_sheet(answer, query)
    without, fmt = screening_engine.contact_sheet(answer, query, include_query=False)
    assert fmt == "jpg"
    assert Image.open(io.BytesIO(without)).size == Image.open(io.BytesIO(with_tile)).size  # the same layout
    assert shows_query_tile(with_tile) and not shows_query_tile(without)
    cell = (slice(-cs.GRID_H + cs.MARGIN, -cs.GRID_H + cs.MARGIN + cs.IMAGE_H), slice(cs.MARGIN, cs.MARGIN + cs.CELL_W))
    first = np.asarray(Image.open(io.BytesIO(with_tile)).convert("RGB"))[cell]
    assert ((first[..., 0] > 200) & (first[..., 1] < 60) & (first[..., 2] < 60)).mean() > 0.5  # the red upload


def test_nsfw_output_without_classes_in_config_is_a_broken_run(nsfw_run, tmp_path):
    broken = tmp_path / "run"
    shutil.copytree(nsfw_run, broken)
    config = json.loads((broken / "config.json").read_text(encoding="utf-8"))
    del config["nsfw_classes"]
    (broken / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(RunFolderError, match="nsfw_classes"):
        Engine.load(broken)


# ---- the recommender: the batched call carries the nsfw output too -------------------------------------------------


async def test_batched_requests_each_get_their_own_screen(screening_engine, cover_title):
    recommender = Recommender(screening_engine, max_batch=32, max_wait_ms=50.0)
    try:
        uploads = [red_square(), cover_title.cover.read_bytes(), strip_with_red_panel(cover_title.cover)] * 2
        answers = await asyncio.gather(*(recommender.similar(data, k=5) for data in uploads))
        assert recommender.batcher.batches < len(uploads)  # they did share model calls
        explicit = [round(a.screen.explicit) for a, _ in answers]
        assert explicit == [1, 0, 1] * 2
        assert [a.screen.panels for a, _ in answers] == [1, 1, 3] * 2
        assert all(len(a.results) == 5 for a, _ in answers)
        answer, img = answers[0]
        data, _ = await recommender.contact_sheet(answer, img, include_query=False)
        assert data
        recommended = await recommender.recommend(cover_title.id, k=3)  # the cover's genres through the same batcher
        assert recommended.genres and recommended.screen is None
        guesses, panels = await recommender.genres(red_square())
        assert guesses and panels == 1
    finally:
        await recommender.aclose()


# ---- the real backbone, when it is cached ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_backbone_run(request) -> Path:
    """``pretrained_run`` (the real nsfwjs network), only if it is already cached: this test never fetches it."""
    from ml.pretrained import default_cache_dir
    from ml.pretrained.fetch import FOLDER, SOURCE_FILE

    folder = default_cache_dir() / FOLDER
    if not (folder / SOURCE_FILE).is_file():
        pytest.skip(f"the real backbone is not cached in {folder} (`make setup` or `python -m scripts.fetch_weights`)")
    return request.getfixturevalue("pretrained_run")


def test_the_real_backbone_does_not_hide_a_safe_cover(shipped_backbone_run, shared_webtoons):
    from bot.checks import hide_upload
    from core.settings import DiscordSettings

    safe = next(t for t in load_catalog(shared_webtoons).titles if t.adult is False and t.cover)
    engine = Engine.load(shipped_backbone_run)
    answer = engine.similar(safe.cover.read_bytes())
    threshold = DiscordSettings.model_fields["nsfw_threshold"].default
    channel = SimpleNamespace(type=discord.ChannelType.text, is_nsfw=lambda: False)  # a public, not age-restricted one
    assert answer.screen is not None and answer.screen.explicit < threshold, (safe.id, answer.screen)
    assert not hide_upload(answer.screen, channel, private=False, threshold=threshold)
    assert hide_upload(
        UploadScreen({"Porn": threshold, "Neutral": 1 - threshold}), channel, private=False, threshold=threshold
    )
