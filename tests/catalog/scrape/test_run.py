"""Whole scrapes against the replay server: completeness, counts, faults, resume, determinism."""

import asyncio
import json
import socket

import pytest

from catalog.scrape import NothingListedError, ScrapeConfig, scrape
from catalog.scrape.run import ScrapeSummary
from tests.catalog.scrape import replay_server as rs
from tests.catalog.scrape.conftest import FAST, standard_faults
from tests.catalog.scrape.helpers import assert_complete_and_valid, catalog_lines, snapshot
from tests.catalog.scrape.replay_server import SYNTHETIC, Fault

EXPECTED_IDS = [101, 102, 103, 104, 105, 106, 110, 201, 202, 203, 204, 205]  # 107: 404, 108: malformed, 109: HTML
NO_FAULT_IDS = sorted(EXPECTED_IDS + [109])  # without faults only 107 and 108 are skipped
EXPECTED_GENRES = {
    101: ["fantasy"],
    102: ["romance"],
    103: ["action", "comedy"],
    104: ["slice_of_life"],
    105: ["thriller"],
    106: ["historical", "sports"],
    110: ["comedy"],
    201: ["drama"],
    202: ["thriller"],
    203: ["bl"],
    204: [],
    205: ["fantasy", "romance"],
}


def config(server, out, **kw) -> ScrapeConfig:
    return ScrapeConfig(out=out, api_base=server.base, rate=None, policy=FAST, **kw)


def ids(rows) -> list[int]:
    return [int(r["id"].split(":")[1]) for r in rows]


def skipped(out) -> dict[int, str]:
    lines = (out / "skipped.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["title_id"]: row["reason"] for row in map(json.loads, lines)}


async def test_full_scrape_with_faults_is_complete_and_valid(replay, tmp_path):
    server = await replay(faults=standard_faults())
    summary = await scrape(config(server, tmp_path))
    rows = assert_complete_and_valid(tmp_path)
    by_id = {int(r["id"].split(":")[1]): r for r in rows}

    assert ids(rows) == EXPECTED_IDS
    assert (summary.listed, summary.listed_weekday, summary.listed_finished) == (15, 10, 5)
    assert summary.duplicates == SYNTHETIC["duplicates"]
    assert (summary.in_catalog, summary.with_images, summary.adult, summary.fetched) == (12, 11, 1, 12)
    assert summary.skipped_by_reason == {"not_found": 1, "bad_response": 1, "not_json": 1}
    assert skipped(tmp_path) == {107: "not_found", 108: "bad_response", 109: "not_json"}
    for cause in ("http_429", "http_500", "http_503", "http_502", "timeout", "not_json", "bad_image", "truncated"):
        assert summary.retries[cause] >= 1, cause
    assert summary.images_downloaded == 11

    for tid, row in by_id.items():
        assert row["id"] == f"naver:{tid}" and row["source"] == "naver"
        assert row["url"] == f"https://comic.naver.com/webtoon/list?titleId={tid}"
        assert row["genres"] == EXPECTED_GENRES[tid]
        assert row["popularity_rank"] == SYNTHETIC["ranks"].get(tid)
        assert row["scraped_at"].endswith("Z")
        if tid != SYNTHETIC["adult"]:
            assert row["images"] == [f"images/naver_{tid}_01.jpg"]
            cover = rs.thumb_url(tid).replace("https://image-comic.pstatic.net/", "ic/")
            assert (tmp_path / row["images"][0]).read_bytes() == server.image_bytes(cover)
    assert by_id[102]["authors"] == ["H.C", "타샤토토", "유세라"] and by_id[102]["genres_raw"] == ["PURE"]
    assert by_id[102]["age_rating"] == "RATE_15" and by_id[102]["adult"] is False
    assert by_id[101]["authors"] == ["SIU"] and by_id[101]["star_score"] == 9.84
    assert by_id[106]["authors"] == ["작가E", "작가F"]
    assert by_id[203]["genres_raw"] == ["BL"]
    assert by_id[201]["finished"] is True and by_id[201]["popularity_rank"] is None

    adult = by_id[SYNTHETIC["adult"]]
    assert adult["adult"] is True and adult["images"] == []
    assert server.hits("/webtoon/105/") == [], "the adult placeholder is not downloaded"

    assert len(server.hits("info?titleId=109")) == 4, "a permanently bad title costs exactly 4 attempts"
    assert len(server.hits("info?titleId=107")) == 1, "a 404 is not retried"
    assert all(h.referer == "https://comic.naver.com/" for h in server.hits("/img/"))
    assert sum(1 for h in server.hits("info?titleId=101") if h.outcome == "ok") == 1
    assert "listed      15 titles" in summary.format() and "skipped     3 titles" in summary.format()


async def test_rerun_over_a_complete_catalogue_changes_nothing(replay, tmp_path):
    server = await replay(faults=standard_faults())
    await scrape(config(server, tmp_path, episodes=1))
    before = (tmp_path / "catalog.jsonl").read_bytes()
    images_before = snapshot(tmp_path)[1]
    server.log.clear()

    summary = await scrape(config(server, tmp_path, episodes=1))
    assert (tmp_path / "catalog.jsonl").read_bytes() == before, "byte-identical, timestamps included"
    assert snapshot(tmp_path)[1] == images_before
    assert server.hits("/img/") == [] and server.hits("/api/article/list?") == []
    detail_hits = {h.path_qs.split("titleId=")[1] for h in server.hits("/api/article/list/info")}
    assert detail_hits == {"107", "108", "109"}, "only the skipped titles are tried again"
    assert summary.reused == 12 and summary.fetched == 0 and summary.images_downloaded == 0


async def test_episode_thumbnails_extend_and_shrink_without_refetching(replay, tmp_path):
    server = await replay()
    summary = await scrape(config(server, tmp_path, episodes=2))
    rows = {int(r["id"].split(":")[1]): r for r in assert_complete_and_valid(tmp_path)}
    assert rows[101]["images"] == ["images/naver_101_01.jpg", "images/naver_101_02.jpg", "images/naver_101_03.jpg"]
    assert len(rows[201]["images"]) == 2, "title 201 has a single episode"
    assert rows[105]["images"] == [], "no episodes for adult titles (they need a login)"
    assert server.hits("/api/article/list?titleId=105") == []
    assert summary.images_downloaded == 12 * 3 - 1, "12 titles with images (no faults: 109 is fine), 201 has 1 episode"
    episode = (tmp_path / "images" / "naver_101_02.jpg").read_bytes()
    assert episode == server.image_bytes("ic/webtoon/101/1/thumbnail_202x120_0001.jpg"), "episode 1 comes first"

    server.log.clear()
    summary = await scrape(config(server, tmp_path, episodes=3))
    rows = {int(r["id"].split(":")[1]): r for r in assert_complete_and_valid(tmp_path)}
    assert len(rows[101]["images"]) == 4 and len(rows[201]["images"]) == 2
    assert summary.images_downloaded == 11, "only each title's 3rd episode (201 has none, 105 is adult)"
    assert summary.images_reused == 33, "cover + 2 episodes of the 11 titles fetched again"
    assert server.hits("titleId=201") == [], "201 was known to have no more episodes"

    server.log.clear()
    await scrape(config(server, tmp_path, episodes=1))
    rows = {int(r["id"].split(":")[1]): r for r in assert_complete_and_valid(tmp_path)}
    assert rows[101]["images"] == ["images/naver_101_01.jpg", "images/naver_101_02.jpg"]
    assert server.hits("/img/") == [] and server.hits("/api/article/list?") == []


async def test_a_missing_episode_image_is_left_out_but_a_broken_cover_skips_the_title(replay, tmp_path):
    faults = [Fault("404", "/webtoon/101/2/", times=None), Fault("truncate", "/webtoon/102/thumbnail/", times=None)]
    server = await replay(faults=faults)
    summary = await scrape(config(server, tmp_path, episodes=2))
    rows = {int(r["id"].split(":")[1]): r for r in assert_complete_and_valid(tmp_path)}
    assert rows[101]["images"] == ["images/naver_101_01.jpg", "images/naver_101_02.jpg"]
    assert summary.image_failures == {"not_found": 1}
    assert 102 not in rows and skipped(tmp_path)[102] == "bad_image"
    assert sorted(p.name for p in (tmp_path / "images").glob("naver_102_*")) == [
        "naver_102_02.jpg",
        "naver_102_03.jpg",
    ], "its episode images are kept for the next run"

    server.faults.clear()
    server.log.clear()
    await scrape(config(server, tmp_path, episodes=2))
    rows = {int(r["id"].split(":")[1]): r for r in assert_complete_and_valid(tmp_path)}
    assert len(rows[102]["images"]) == 3
    assert [h.path_qs.split("/img/")[1] for h in server.hits("/img/")] == [
        rs.thumb_url(102).replace("https://image-comic.pstatic.net/", "ic/")
    ], "only the cover is fetched again"


async def test_a_failed_update_keeps_the_earlier_record(replay, tmp_path):
    server = await replay()
    await scrape(config(server, tmp_path, episodes=1))
    server.faults.append(Fault("500", "/api/article/list?titleId=101", times=None))
    summary = await scrape(config(server, tmp_path, episodes=2))
    rows = {int(r["id"].split(":")[1]): r for r in assert_complete_and_valid(tmp_path)}
    assert rows[101]["images"] == ["images/naver_101_01.jpg", "images/naver_101_02.jpg"], "the 1-episode record"
    assert len(rows[102]["images"]) == 3
    assert [k.title_id for k in summary.kept_previous] == [101] and 101 not in skipped(tmp_path)
    assert "not updated naver:101" in summary.format()


async def test_limit_takes_the_most_popular_and_skips_finished_pages(replay, tmp_path):
    server = await replay()
    summary = await scrape(config(server, tmp_path, limit=3))
    rows = assert_complete_and_valid(tmp_path)
    assert ids(rows) == [101, 104, 105]
    assert [r["popularity_rank"] for r in rows] == [1, 2, 3]
    assert summary.listed == 3 and summary.limited_out == 7
    assert server.hits("finished") == []
    assert len(server.hits("/api/article/list/info")) == 3


async def test_limit_reaching_into_finished_stops_paging(replay, tmp_path):
    server = await replay()
    await scrape(config(server, tmp_path, limit=11))
    assert [h.path_qs for h in server.hits("finished")] == ["/api/webtoon/titlelist/finished?page=1&order=UPDATE"]
    assert ids(catalog_lines(tmp_path)) == [101, 102, 103, 104, 105, 106, 109, 110, 201]


async def test_limit_counts_only_new_finished_titles(replay, tmp_path):
    dataset = rs.synthetic_dataset()
    dataset.finished.insert(0, dataset.finished.pop(2))  # page 1 = [103 (also on Monday), 201]
    server = await replay(dataset=dataset)
    await scrape(config(server, tmp_path, limit=12))
    assert len(server.hits("finished")) == 2
    assert ids(catalog_lines(tmp_path)) == [101, 102, 103, 104, 105, 106, 109, 110, 201, 202]


async def test_weekday_selection_without_finished(replay, tmp_path):
    server = await replay()
    summary = await scrape(config(server, tmp_path, weekdays=("mon", "sun"), finished=False))
    rows = assert_complete_and_valid(tmp_path)
    assert ids(rows) == [101, 102, 103, 109]
    assert {r["id"]: r["popularity_rank"] for r in rows} == {
        "naver:101": 1,
        "naver:109": 2,
        "naver:102": 3,
        "naver:103": 4,
    }
    assert summary.skipped == [] and skipped(tmp_path) == {}
    assert server.hits("finished") == []
    assert {h.path_qs for h in server.hits("titlelist")} == {
        "/api/webtoon/titlelist/weekday?week=mon&order=user",
        "/api/webtoon/titlelist/weekday?week=sun&order=user",
    }


async def test_a_failing_finished_page_is_a_warning(replay, tmp_path):
    server = await replay(faults=[Fault("500", "finished?page=2", times=None)])
    summary = await scrape(config(server, tmp_path))
    assert ids(catalog_lines(tmp_path)) == [101, 102, 103, 104, 105, 106, 109, 110, 201, 202]
    assert any("finished page 2" in w for w in summary.list_warnings)
    assert "warning: finished page 2" in summary.format()


async def test_daily_plus_failure_does_not_stop_the_run(replay, tmp_path):
    server = await replay(faults=[Fault("html", "week=dailyPlus", times=None)])
    summary = await scrape(config(server, tmp_path, finished=False))
    assert ids(catalog_lines(tmp_path)) == [101, 102, 103, 104, 105, 106, 109]
    assert any("dailyPlus" in w for w in summary.list_warnings)


async def test_nothing_listed_raises(replay, tmp_path):
    server = await replay(faults=[Fault("500", "/api/webtoon/", times=None)])
    with pytest.raises(NothingListedError, match="nothing could be listed"):
        await scrape(config(server, tmp_path))
    assert not (tmp_path / "catalog.jsonl").exists()


async def test_unreachable_api_raises_nothing_listed(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = ScrapeConfig(out=tmp_path, api_base=f"http://127.0.0.1:{port}", rate=None, policy=FAST)
    with pytest.raises(NothingListedError, match="connection"):
        await scrape(cfg)


async def test_unexpected_list_shapes_are_skipped_not_fatal(replay, tmp_path):
    dataset = rs.synthetic_dataset()
    dataset.weekday["MONDAY"].insert(0, {"titleId": None, "titleName": "?"})
    dataset.weekday["MONDAY"].insert(1, "garbage")
    server = await replay(dataset=dataset)
    summary = await scrape(config(server, tmp_path))
    assert summary.bad_list_entries == 2
    assert ids(catalog_lines(tmp_path)) == NO_FAULT_IDS


async def test_cancelled_midway_then_resumed_equals_uninterrupted(replay, tmp_path):
    reference = tmp_path / "reference"
    server = await replay(faults=standard_faults())
    await scrape(config(server, reference, episodes=2))

    resumed = tmp_path / "resumed"
    server = await replay(faults=standard_faults())
    task = asyncio.create_task(scrape(config(server, resumed, episodes=2)))
    seen = 0

    def cancel_at_tenth_image(request):
        nonlocal seen
        if request.path.startswith("/img/"):
            seen += 1
            if seen == 10:
                task.cancel()

    server.on_request = cancel_at_tenth_image
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not (resumed / "catalog.jsonl").exists()
    journal = (resumed / ".scrape" / "journal.jsonl").read_text().splitlines()
    assert 0 < len(journal) < 12, "stopped midway"
    server.on_request = None
    summary = await scrape(config(server, resumed, episodes=2))
    assert summary.reused == len(journal)
    assert_complete_and_valid(resumed)
    assert snapshot(resumed) == snapshot(reference)
    assert (resumed / "skipped.jsonl").read_text() == (reference / "skipped.jsonl").read_text()


async def test_torn_journal_line_is_recovered(replay, tmp_path):
    server = await replay()
    await scrape(config(server, tmp_path))
    reference = snapshot(tmp_path)
    journal = tmp_path / ".scrape" / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:-1]) + lines[-1][:20])
    (tmp_path / "catalog.jsonl").unlink()
    server.log.clear()
    summary = await scrape(config(server, tmp_path))
    assert summary.fetched == 1 and summary.images_reused == 1 and summary.images_downloaded == 0
    assert snapshot(tmp_path) == reference


@pytest.mark.skipif(not rs.samples_available(), reason="../shared/data/naver-api samples not present")
async def test_scrape_of_the_shared_samples(replay, tmp_path):
    server = await replay(dataset=rs.sample_dataset())
    summary = await scrape(config(server, tmp_path, episodes=5))
    rows = {int(r["id"].split(":")[1]): r for r in assert_complete_and_valid(tmp_path)}
    assert sorted(rows) == [183559, 654774, 758037, 780986, 780987, 805671, 999001, 999002]
    assert summary.duplicates == 2 and summary.skipped == []
    red = rows[805671]
    assert red["title"] == "공작저의 붉은 밤" and red["authors"] == ["H.C", "타샤토토", "유세라"]
    assert red["genres"] == ["romance"] and red["genres_raw"] == ["PURE"] and red["adult"] is False
    assert red["images"][0] == "images/naver_805671_01.jpg" and len(red["images"]) == 6
    assert rows[183559]["genres"] == ["fantasy"] and "먼치킨" in rows[183559]["tags"]
    assert rows[999001]["adult"] is True and rows[999001]["images"] == []
    assert rows[780987]["authors"] == ["이동화", "이금성", "이승우"] and rows[780987]["popularity_rank"] is None
    assert rows[758037]["popularity_rank"] == 1 and rows[805671]["popularity_rank"] == 2


def test_summary_format_lists_failures_by_reason(tmp_path):
    from collections import Counter

    from catalog.scrape.run import Skip

    summary = ScrapeSummary(
        out=tmp_path, listed=3, skipped=[Skip(1, "a", "not_found", "HTTP 404")], retries=Counter(http_500=2)
    )
    text = summary.format()
    assert "skipped     1 titles: not_found 1" in text and "retries 2 (http_500 2)" in text
    assert "naver:1 'a': not_found" in text
