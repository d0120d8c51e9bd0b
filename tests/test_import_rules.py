"""The one-way dependency rule, read from the source: which top-level room may import which.

``bot → ml, db, catalog, core``; ``scripts → ml, db, catalog, core``; ``ml → catalog, core``; ``db → core``;
``catalog → core``; ``core`` → nothing of ours. Nothing imports ``bot`` or ``scripts``. ``ml`` never imports discord
or SQL libraries, ``db`` never imports Discord or ML libraries. Inside ``ml``: serving never imports training code,
and the shared modules at ``ml/`` level import neither.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"bot", "ml", "db", "catalog", "core", "scripts"}
ALLOWED = {
    "core": set(),
    "catalog": {"core"},
    "ml": {"catalog", "core"},
    "db": {"core"},
    "bot": {"ml", "db", "catalog", "core"},
    "scripts": {"ml", "db", "catalog", "core"},
    "bench": {"ml", "db", "catalog", "core", "scripts"},
}
FORBIDDEN_LIBRARIES = {
    "core": {"discord", "sqlalchemy", "alembic", "aiosqlite", "tensorflow", "keras", "annoy"},
    "catalog": {"discord", "sqlalchemy", "alembic", "aiosqlite", "tensorflow", "keras", "annoy"},
    "ml": {"discord", "sqlalchemy", "alembic", "aiosqlite", "asyncpg"},
    "db": {"discord", "tensorflow", "keras", "annoy"},
}


def imported_modules(source: str) -> set[str]:
    """Every absolute module a file imports, at any depth (function-level imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations(root: Path) -> list[str]:
    """``file: imports X`` for every import the rules above forbid, under ``root``."""
    found = []
    for room, allowed in ALLOWED.items():
        for path in sorted((root / room).rglob("*.py")):
            rel = path.relative_to(root)
            modules = imported_modules(path.read_text(encoding="utf-8"))
            for module in sorted(modules):
                top = module.split(".")[0]
                if top in OURS and top != room and top not in allowed:
                    found.append(f"{rel}: imports {module}")
                if top in FORBIDDEN_LIBRARIES.get(room, ()):
                    found.append(f"{rel}: imports {module}")
                if room == "ml":
                    found.extend(_ml_violation(rel, module))
    return found


def _ml_violation(rel: Path, module: str) -> list[str]:
    parts = rel.parts
    if parts[1] == "serve" and module.startswith("ml.train"):
        return [f"{rel}: serving imports training code {module}"]
    if len(parts) == 2 and (module.startswith("ml.serve") or module.startswith("ml.train")):
        return [f"{rel}: a shared ml module imports {module}"]
    return []


def test_no_forbidden_imports_in_the_project():
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("ml/engine_x.py", "import discord\n", "ml/engine_x.py: imports discord"),
        ("db/x.py", "def f():\n    from bot.bot import Toonmatch\n", "db/x.py: imports bot.bot"),
        ("core/x.py", "from ml.preprocess import letterbox\n", "core/x.py: imports ml.preprocess"),
        ("ml/serve/x.py", "from ml.train import pipeline\n", "ml/serve/x.py: serving imports training code ml.train"),
        ("ml/x.py", "import ml.serve.engine\n", "ml/x.py: a shared ml module imports ml.serve.engine"),
        ("catalog/x.py", "from db import queries\n", "catalog/x.py: imports db"),
    ],
)
def test_a_forbidden_import_is_reported(tmp_path, path, source, expected):
    target = tmp_path / path
    target.parent.mkdir(parents=True)
    target.write_text(source)
    assert expected in violations(tmp_path)


def test_allowed_imports_are_not_reported(tmp_path):
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "x.py").write_text(
        "import discord\nfrom ml.serve.engine import Engine\nfrom db import queries\n"
    )
    (tmp_path / "ml" / "train").mkdir(parents=True)
    (tmp_path / "ml" / "train" / "x.py").write_text(
        "from ml.serve.index import TitleIndex\nfrom core.errors import E\n"
    )
    assert violations(tmp_path) == []
