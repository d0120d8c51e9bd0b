"""The command-line contract of train / build_index / evaluate / query / rate on the tiny run and catalogue.

Each script's ``main`` runs in-process (through ``run_main`` where the exit code of an error matters); one subprocess
check covers ``python -m``."""

from __future__ import annotations

import hashlib
import io
import json
import math
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from catalog.format import CATALOG_FILE, load_catalog
from ml.serve.index import index_paths
from scripts import build_index, evaluate, query, rate, train
from scripts.cli import run_main

ROOT = Path(__file__).resolve().parents[2]
RESULT_KEYS = {"id", "title", "authors", "genres", "similarity"}


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch, tmp_path):
    """No developer .env or environment leaks into the scripts' settings."""
    monkeypatch.chdir(tmp_path)
    for name in ("TOONMATCH_RUN_DIR", "DATABASE_URL", "TOONMATCH_TASTE_WEIGHT", "TOONMATCH_LOW_CONFIDENCE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def titles(tiny_catalog):
    return list(load_catalog(tiny_catalog).titles)


@pytest.fixture(scope="module")
def family(titles):
    """Non-adult titles (what a default query may return)."""
    return [t for t in titles if t.adult is not True]


def no_nan(text: str):
    def refuse(constant):
        raise AssertionError(f"non-finite number {constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


def json_lines(out: str) -> list[dict]:
    lines = [line for line in out.splitlines() if line.strip()]
    return [no_nan(line) for line in lines]


def error_lines(err: str) -> list[str]:
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("error:")]


def folder_state(folder: Path) -> dict[str, tuple[int, int, str]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ---- the run folder ----------------------------------------------------------------------------------------------


def test_run_folder_holds_everything_serving_needs(tiny_run, tiny_catalog):
    for name in ("config.json", "metrics.json", "report.md", "split.json", CATALOG_FILE):
        assert (tiny_run / name).is_file(), name
    ann, ids = index_paths(tiny_run)  # the current generation of the index pair
    assert ann.is_file() and ids.is_file() and ann.parent.parent == tiny_run / "index"
    assert {p.name for p in tiny_run.glob("*.keras")} >= {"serving.keras", "author.keras", "genre.keras"}
    assert list((tiny_run / "plots").glob("*.png"))
    snapshot = load_catalog(tiny_run)  # the snapshot is itself a valid catalogue, covers included
    assert all(t.cover is not None and t.cover.parent == (tiny_run / "covers").resolve() for t in snapshot.titles)
    assert {t.id for t in snapshot.titles} == {t.id for t in load_catalog(tiny_catalog).titles}

    config = json.loads((tiny_run / "config.json").read_text())
    assert isinstance(config["input_size"], int) and config["input_size"] > 0
    assert config["genres"] and all(isinstance(g, str) for g in config["genres"])
    assert config["authors"] and all(isinstance(a, str) for a in config["authors"])
    assert isinstance(config["split_seed"], int)
    assert {"python", "numpy", "keras"} <= set(config["versions"])
    expected = hashlib.sha256((tiny_catalog / CATALOG_FILE).read_bytes()).hexdigest()
    assert config["catalog"]["sha256"] == expected

    split = json.loads((tiny_run / "split.json").read_text())
    parts = [set(split[name]) for name in ("train", "val", "test")]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


# ---- train -------------------------------------------------------------------------------------------------------


def test_train_on_a_missing_catalogue_is_a_one_line_error(tmp_path, capsys):
    out = tmp_path / "run"
    code = run_main(train.main, ["--catalog", str(tmp_path / "nowhere"), "--out", str(out), "--tiny", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert error_lines(err) == [f"error: catalogue folder not found: {tmp_path / 'nowhere'}"]
    assert not out.exists()  # nothing half-made left behind


def test_train_flags_reach_the_run_config(tmp_path, tiny_catalog):
    out = tmp_path / "run"
    argv = ["--catalog", str(tiny_catalog), "--out", str(out), "--tiny", "--no-progress"]
    assert train.main([*argv, "--gram", "--genre-flip", "--no-genre-prior"]) == 0
    recorded = json.loads((out / "config.json").read_text())["train"]
    assert (recorded["gram"], recorded["genre_flip"], recorded["genre_prior"]) == (True, True, False)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["genre_prior"] == {"strength": 0.0, "val_f1": {}}  # no strength tried
    assert train.main([*argv[:3], str(tmp_path / "default"), *argv[4:]]) == 0
    default = json.loads((tmp_path / "default" / "config.json").read_text())["train"]
    assert (default["gram"], default["genre_flip"], default["genre_prior"]) == (False, False, True)
    tried = json.loads((tmp_path / "default" / "metrics.json").read_text())["genre_prior"]["val_f1"]
    assert set(tried) == {"0.0", "0.25", "0.5", "0.75", "1.0"}


@pytest.mark.parametrize(
    ("n_titles", "genres", "message"),
    [(12, [], "needs at least 2"), (6, None, "training needs at least 8")],
)
def test_train_refuses_catalogues_it_cannot_learn_from(tmp_path, capsys, tiny_catalog, n_titles, genres, message):
    from catalog.format import write_catalog

    rows = []
    for title in load_catalog(tiny_catalog).titles[:n_titles]:
        row = {**title.to_json(tiny_catalog), "images": [str(p) for p in title.images]}  # absolute paths
        rows.append(row if genres is None else {**row, "genres": genres})
    write_catalog(tmp_path / "cat", rows)
    out = tmp_path / "run"
    code = run_main(train.main, ["--catalog", str(tmp_path / "cat"), "--out", str(out), "--tiny", "--no-progress"])
    lines = error_lines(capsys.readouterr().err)
    assert code == 1 and len(lines) == 1 and message in lines[0]
    assert not out.exists()


# ---- evaluate ----------------------------------------------------------------------------------------------------


def test_evaluate_json_prints_one_object_with_the_contract_keys_and_leaves_the_run_alone(
    tiny_run, tiny_catalog, capsys
):
    before = folder_state(tiny_run)
    code = evaluate.main(["--run", str(tiny_run), "--catalog", str(tiny_catalog), "--json", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert folder_state(tiny_run) == before

    (result,) = json_lines(out)
    assert {"genre", "author", "retrieval", "index"} <= set(result)
    counts = {"n", "n_queries", "n_same_author_queries", "n_hub_queries", "skipped"}
    expected = {
        "genre": {"precision", "recall", "f1", "accuracy", "n"},
        "author": {"precision", "recall", "f1", "accuracy", "n"},
        "retrieval": {"perturbed_hit@1", "perturbed_hit@24", "same_author_hit@24", "hub_share@24_top1%", "n_queries"},
        "index": {"recall@24_vs_exact"},
    }
    for section, keys in expected.items():
        assert keys <= set(result[section]), section
        for key, value in result[section].items():
            if key in counts:
                assert isinstance(value, int) and not isinstance(value, bool), (section, key)
            else:
                assert value is None or isinstance(value, float), (section, key, value)
                assert value is None or (math.isfinite(value) and 0.0 <= value <= 1.0), (section, key, value)
    assert result["retrieval"]["n_queries"] == len(load_catalog(tiny_catalog).titles)
    assert result["genre"]["n"] > 0


# ---- query -------------------------------------------------------------------------------------------------------


def test_query_two_images_json_gives_two_lines_of_exactly_k_results(tiny_run, family, capsys):
    a, b = family[0], family[1]
    code = query.main(["--run", str(tiny_run), "--image", str(a.cover), "--image", str(b.cover), "--json", "--k", "5"])
    assert code == 0
    answers = json_lines(capsys.readouterr().out)
    assert len(answers) == 2
    for answer, source in zip(answers, (a, b), strict=True):
        assert isinstance(answer["low_confidence"], bool)
        assert len(answer["genres"]) <= 3
        for guess in answer["genres"]:
            assert set(guess) == {"genre", "probability"}
            assert isinstance(guess["probability"], float) and 0.0 <= guess["probability"] <= 1.0
        results = answer["results"]
        assert len(results) == 5
        assert all(set(r) >= RESULT_KEYS for r in results)
        sims = [r["similarity"] for r in results]
        assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in sims)
        assert sims == sorted(sims, reverse=True)
        assert results[0]["id"] == source.id  # the catalogue cover finds its own title first
        assert isinstance(results[0]["authors"], list) and isinstance(results[0]["genres"], list)


def korean_partial(titles) -> tuple[str, str]:
    """A Korean title cut short so that it starts only that title: (partial text, title id)."""
    for t in titles:
        base = t.title.replace(" (데모)", "")
        if any("가" <= ch <= "힣" for ch in base) and len(base) >= 4:
            partial = base[:-1]
            if sum(1 for other in titles if other.title.startswith(partial)) == 1:
                return partial, t.id
    raise AssertionError("the demo catalogue has no Korean title to cut")


def test_query_by_korean_partial_title_recommends_from_that_title(tiny_run, family, capsys):
    partial, tid = korean_partial(family)
    assert query.main(["--run", str(tiny_run), "--title", partial, "--k", "4"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    assert header.startswith("== titles like ") and header.endswith(f"({tid})")
    assert len([line for line in out.splitlines() if line[:3].strip().rstrip(".").isdigit()]) == 4

    assert query.main(["--run", str(tiny_run), "--title", partial, "--k", "4", "--json"]) == 0
    (answer,) = json_lines(capsys.readouterr().out)
    assert len(answer["results"]) == 4 and tid not in {r["id"] for r in answer["results"]}


def test_query_sheet_writes_a_decodable_image(tiny_run, family, tmp_path, capsys):
    out = tmp_path / "sheets" / "OUT.png"
    assert query.main(["--run", str(tiny_run), "--image", str(family[0].cover), "--sheet", str(out)]) == 0
    written = list(out.parent.iterdir())
    assert [p.name for p in written] == ["OUT.jpg"]  # the suffix follows the sheet's format
    data = written[0].read_bytes()
    assert 0 < len(data) < 1_000_000
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.width > 100 and img.height > 100
    assert "contact sheet:" in capsys.readouterr().err


def test_query_with_a_non_image_file_is_a_one_line_error(tiny_run, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture\n")
    code = run_main(query.main, ["--run", str(tiny_run), "--image", str(notes), "--json"])
    captured = capsys.readouterr()
    assert code == 1
    (line,) = error_lines(captured.err)
    assert line.startswith("error: notes.txt: not an image")
    assert captured.out == ""


def test_query_with_a_missing_run_folder_is_a_one_line_error(tmp_path, family, capsys):
    code = run_main(query.main, ["--run", str(tmp_path / "no-run"), "--image", str(family[0].cover)])
    (line,) = error_lines(capsys.readouterr().err)
    assert code == 1 and "run folder not found" in line


def test_query_help_runs_as_a_module():
    done = subprocess.run(
        [sys.executable, "-m", "scripts.query", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0
    assert "usage: python -m scripts.query" in done.stdout
    assert "--image" in done.stdout and "--title" in done.stdout and "--user" in done.stdout


# ---- build_index -------------------------------------------------------------------------------------------------


def test_build_index_with_another_catalogue_makes_the_run_serve_its_titles(tiny_run, titles, tmp_path, capsys):
    from catalog.demo import generate_demo_catalog

    other = generate_demo_catalog(tmp_path / "other", n_titles=10, seed=7)
    other_titles = load_catalog(other).titles
    other_ids = {t.id for t in other_titles}
    assert other_ids != {t.id for t in titles}
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)

    assert build_index.main(["--run", str(run), "--catalog", str(other), "--no-progress"]) == 0
    (stats,) = json_lines(capsys.readouterr().out)
    assert stats["n_titles"] == len(other_ids)
    config = json.loads((run / "config.json").read_text())
    assert config["index"]["catalog"]["sha256"] == hashlib.sha256((other / CATALOG_FILE).read_bytes()).hexdigest()
    assert {t.id for t in load_catalog(run).titles} == other_ids

    probe = next(t for t in other_titles if t.adult is not True)
    assert query.main(["--run", str(run), "--image", str(probe.cover), "--json", "--k", "24"]) == 0
    (answer,) = json_lines(capsys.readouterr().out)
    found = [r["id"] for r in answer["results"]]
    assert found[0] == probe.id
    assert set(found) <= other_ids
    assert len(found) == sum(1 for t in other_titles if t.adult is not True)


# ---- rate and query --user ---------------------------------------------------------------------------------------


def test_rate_creates_the_database_and_a_dislike_disappears_from_query(tiny_run, family, tmp_path, capsys):
    db_file = tmp_path / "data" / "x.db"
    url = f"sqlite+aiosqlite:///{db_file}"
    liked = family[2]
    code = rate.main(["--run", str(tiny_run), "--user", "1", "--title", liked.title, "--like", "--db", url])
    assert code == 0
    assert f"user 1 likes {liked.title}" in capsys.readouterr().out
    assert db_file.is_file()
    with sqlite3.connect(db_file) as con:
        assert con.execute("select version_num from alembic_version").fetchone()  # migrated
        assert con.execute("select title_id, value from ratings where user_id = 1").fetchall() == [(liked.id, 1)]

    probe = family[0]
    args = ["--run", str(tiny_run), "--image", str(probe.cover), "--user", "1", "--db", url, "--json", "--k", "10"]
    assert query.main(args) == 0
    (before,) = json_lines(capsys.readouterr().out)
    shown = [r["id"] for r in before["results"]]
    assert probe.id in shown

    assert rate.main(["--run", str(tiny_run), "--user", "1", "--title", probe.id, "--dislike", "--db", url]) == 0
    assert "dislikes" in capsys.readouterr().out
    assert query.main(args) == 0
    (after,) = json_lines(capsys.readouterr().out)
    assert probe.id not in [r["id"] for r in after["results"]]
    assert len(after["results"]) == 10

    # another user is unaffected
    other_user = ["--run", str(tiny_run), "--image", str(probe.cover), "--user", "2", "--db", url, "--json"]
    assert query.main(other_user) == 0
    (unaffected,) = json_lines(capsys.readouterr().out)
    assert unaffected["results"][0]["id"] == probe.id


@pytest.fixture
def ambiguous_run(tiny_run, tmp_path) -> Path:
    """A run folder whose catalogue names two titles the same (config + catalogue are all rate needs)."""
    run = tmp_path / "ambiguous-run"
    run.mkdir()
    shutil.copy(tiny_run / "config.json", run / "config.json")
    rows = [
        {"id": "demo:twin-a", "title": "같은 제목", "title_en": "Same Name A", "authors": ["A"], "genres": ["drama"]},
        {"id": "demo:twin-b", "title": "같은 제목", "title_en": "Same Name B", "authors": ["B"], "genres": ["drama"]},
        {"id": "demo:other", "title": "다른 작품", "authors": ["C"], "genres": ["comedy"]},
    ]
    lines = [json.dumps({**row, "images": [f"covers/{row['id'][5:]}.jpg"]}, ensure_ascii=False) for row in rows]
    (run / CATALOG_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run


def test_rate_an_ambiguous_title_lists_the_candidates_and_stores_nothing(ambiguous_run, tmp_path, capsys):
    db_file = tmp_path / "y.db"
    argv = ["--run", str(ambiguous_run), "--user", "1", "--title", "같은 제목", "--like"]
    code = run_main(rate.main, [*argv, "--db", f"sqlite+aiosqlite:///{db_file}"])
    err = capsys.readouterr().err
    assert code != 0
    (line,) = error_lines(err)
    assert "같은 제목" in line
    assert "(demo:twin-a)" in err and "(demo:twin-b)" in err
    assert "(demo:other)" not in err
    assert not db_file.exists()


def test_rate_an_unknown_title_fails_with_suggestions(tiny_run, family, tmp_path, capsys):
    db_file = tmp_path / "z.db"
    argv = ["--run", str(tiny_run), "--user", "1", "--title", "zzqqxxwv", "--dislike"]
    code = run_main(rate.main, [*argv, "--db", f"sqlite+aiosqlite:///{db_file}"])
    (line,) = error_lines(capsys.readouterr().err)
    assert code == 1 and "no title matches 'zzqqxxwv'" in line
    assert not db_file.exists()
