"""scripts.forget and scripts.export on both backends: exactly one user's rows go, and the export is /forget-me's."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from db import queries as q
from db.models import Base
from scripts import export as export_script
from scripts import forget as forget_script
from tests.db.conftest import backend, database, database_url  # noqa: F401  (fixtures: both backends)

USER = 123456789012345678
OTHER = 223456789012345678
GUILD = 323456789012345678


async def _fill(db) -> None:
    for user in (USER, OTHER):
        await db.run(q.rate, user, "naver:1", 1, guild_id=GUILD)
        await db.run(q.rate, user, "naver:2", -1)
        await db.run(q.record_member, GUILD + 1, user)
        await db.run(q.mark_shown, user, ["naver:1", "naver:3", "naver:4"])
        await db.run(q.take_cooldown, user, datetime.now(UTC).timestamp(), 3, 30.0)
    await db.run(q.set_discovery, GUILD, 5, 24, datetime(2025, 1, 1, tzinfo=UTC))
    await db.run(q.record_discovery_post, GUILD, "naver:1", 5, 6)


async def _rows(db) -> dict[tuple[str, int | None], int]:
    """Rows per (table, user id) — user id ``None`` for tables without one."""
    out: dict[tuple[str, int | None], int] = {}
    async with db.begin() as s:
        for table in Base.metadata.sorted_tables:
            if "user_id" in table.c:
                for user, n in await s.execute(select(table.c.user_id, func.count()).group_by(table.c.user_id)):
                    out[(table.name, int(user))] = int(n)
            else:
                out[(table.name, None)] = int(await s.scalar(select(func.count()).select_from(table)))
    return out


async def test_forget_removes_exactly_one_users_rows_and_says_what(database, database_url, capsys):  # noqa: F811
    await _fill(database)
    before = await _rows(database)
    assert await asyncio.to_thread(forget_script.main, ["--user", str(USER), "--db", database_url]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"user {USER}: deleted 8 rows"
    for count, what in [(2, "ratings"), (3, "shown_titles"), (2, "guild_members"), (1, "command_cooldowns")]:
        assert any(line.split()[0] == str(count) and f"({what})" in line for line in out.splitlines()), (what, out)
    after = await _rows(database)
    assert after == {k: v for k, v in before.items() if k[1] != USER}  # the other user and the server untouched
    assert not any(user == USER for _, user in after)
    assert await asyncio.to_thread(forget_script.main, ["--user", str(USER), "--db", database_url]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"user {USER}: deleted 0 rows"


async def test_export_writes_what_forget_me_downloads(database, database_url, capsys, tmp_path):  # noqa: F811
    await _fill(database)
    assert await asyncio.to_thread(export_script.main, ["--user", str(USER), "--db", database_url]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = await database.run(q.export_user, USER)  # what the /forget-me button sends (queries.export_json)
    assert {**printed, "exported_at": None} == {**expected, "exported_at": None}
    assert len(printed["ratings"]) == 2 and len(printed["shown"]) == 3 and printed["user_id"] == str(USER)
    out = tmp_path / "user.json"
    argv = ["--user", str(USER), "--db", database_url, "--out", str(out)]
    assert await asyncio.to_thread(export_script.main, argv) == 0
    assert out.read_text(encoding="utf-8") == q.export_json(json.loads(out.read_text(encoding="utf-8"))) + "\n"
    assert json.loads(out.read_text())["ratings"] == printed["ratings"]


@pytest.mark.parametrize("script", [forget_script, export_script])
def test_a_missing_sqlite_file_is_an_error_not_an_empty_database(script, tmp_path, capsys):
    missing = tmp_path / "nope.db"
    from scripts.cli import run_main

    prog = f"scripts.{script.__name__.rsplit('.', 1)[1]}"
    code = run_main(script.main, ["--user", "1", "--db", f"sqlite+aiosqlite:///{missing}"], prog=prog)
    assert code == 1 and not missing.exists()
    assert f"{prog}: error: no database at {missing}" in capsys.readouterr().err
