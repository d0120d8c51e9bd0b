"""A throw-away PostgreSQL cluster for the tests: ``initdb`` + ``pg_ctl`` in a temporary folder, on a free port.

PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to an unprivileged user
(``nobody`` unless ``TOONMATCH_PG_USER`` names another) and every server command runs as that user. The cluster is
tuned for tests (no fsync) and runs in a non-UTC time zone on purpose, so that nothing can rely on the server's
clock being UTC. Databases are created and dropped per test through :meth:`PostgresCluster.create_database`.

Binaries are looked up in ``TOONMATCH_PG_BINDIR``, then next to ``pg_ctl`` on ``PATH``, then in the usual package
folders (``/usr/lib/postgresql/<version>/bin`` on Debian/Ubuntu, …), newest version first.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "postgres"
SERVER_TIME_ZONE = "Asia/Seoul"  # deliberately not UTC
BIN_GLOBS = (
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # RHEL, Fedora (PGDG)
    "/usr/local/pgsql/bin",  # built from source
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
)
TOOLS = ("initdb", "pg_ctl", "postgres")


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed on this machine."""


def _has_tools(bindir: Path) -> bool:
    return all(os.access(bindir / tool, os.X_OK) for tool in TOOLS)


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def find_bindir() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None`` if PostgreSQL is not installed."""
    override = os.environ.get("TOONMATCH_PG_BINDIR")
    if override:
        return Path(override) if _has_tools(Path(override)) else None
    on_path = shutil.which("pg_ctl")
    if on_path and _has_tools(Path(on_path).resolve().parent):
        return Path(on_path).resolve().parent
    candidates = [c for pattern in BIN_GLOBS for c in glob.glob(pattern)]
    for candidate in sorted(candidates, key=_version_key, reverse=True):
        if _has_tools(Path(candidate)):
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """One PostgreSQL server for a test session. ``start()``, then ``url(await create_database())``, ``stop()``."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root: Path | None = None
        self.port: int | None = None
        self._names = itertools.count(1)
        self._run_as: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            user = os.environ.get("TOONMATCH_PG_USER", "nobody")
            try:
                self._run_as = pwd.getpwnam(user)
            except KeyError:
                raise RuntimeError(
                    f"running as root, and PostgreSQL refuses to: no user {user!r} to run it as "
                    "(set TOONMATCH_PG_USER to an unprivileged user)"
                ) from None

    # ---- running the server tools as the unprivileged user --------------------------------------------------
    def _run(self, *args: str | Path, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        kwargs = {}
        if self._run_as is not None:
            kwargs = {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid, "extra_groups": []}
        env = {
            "PATH": f"{self.bindir}:/usr/bin:/bin",
            "LC_ALL": "C",
            "LANG": "C",
            "HOME": str(self.root),
            "TZ": "UTC",
        }
        return subprocess.run(
            [str(a) for a in args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
            **kwargs,
        )

    @property
    def data(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    # ---- life cycle ---------------------------------------------------------------------------------------
    def start(self, attempts: int = 3) -> PostgresCluster:
        """initdb + start on a free port; raises :class:`RuntimeError` with the server's log if it cannot start."""
        # Not under pytest's tmp folder: that one is private to the user running the tests.
        self.root = Path(tempfile.mkdtemp(prefix="toonmatch-pg-"))
        if self._run_as is not None:
            os.chown(self.root, self._run_as.pw_uid, self._run_as.pw_gid)
        init = self._run(
            self.bindir / "initdb",
            "-D",
            self.data,
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            check=False,
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")
        for attempt in range(attempts):
            self.port = _free_port()  # another process may take it before the server does: then retry
            options = " ".join(
                [
                    f"-c port={self.port}",
                    "-c listen_addresses=127.0.0.1",
                    f"-c unix_socket_directories={self.root}",
                    f"-c timezone={SERVER_TIME_ZONE}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=200",
                    "-c deadlock_timeout=100ms",  # deadlock tests resolve quickly
                ]
            )
            pg_ctl = [self.bindir / "pg_ctl", "-D", self.data, "-l", self.logfile, "-o", options]
            started = self._run(*pg_ctl, "-w", "-t", "60", "start", check=False)
            if started.returncode == 0:
                return self
            if attempt + 1 == attempts or "could not bind" not in self.log_tail():
                tail = self.log_tail()
                self.stop()
                raise RuntimeError(f"PostgreSQL did not start ({started.stderr.strip()}); server log:\n{tail}")
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop the server (fast shutdown, closing connections) and delete the cluster."""
        if self.root is None:
            return
        if (self.data / "postmaster.pid").exists():
            self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    # ---- databases ----------------------------------------------------------------------------------------
    def url(self, database: str = "postgres", driver: str = "asyncpg") -> str:
        assert self.port is not None, "start() the cluster first"
        return f"postgresql+{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    async def _admin(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, database="postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create_database(self, prefix: str = "t") -> str:
        """A new, empty database (from ``template0``); returns its name."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return name

    async def disconnect_all(self, name: str) -> None:
        """End every connection to database ``name`` from the server side, as a server restart would."""
        await self._admin(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )

    async def drop_database(self, name: str) -> None:
        """Drop a test database, disconnecting whatever a test left connected."""
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
