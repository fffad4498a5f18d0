"""A throwaway PostgreSQL cluster from Debian's `postgresql` package: initdb into a temporary folder,
pg_ctl start on a free port with its Unix socket beside the data, and everything removed afterwards.
A real server, so that the tests see PostgreSQL's own locking and types, never a mock."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

USER = "rthdr"  # the cluster's superuser (initdb -U); trust authentication, local connections only


def bindir() -> Path | None:
    """Where initdb and pg_ctl are: `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin."""
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        if found and (Path(found) / "initdb").exists():
            return Path(found)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: as root, run them as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A running cluster with a database `rthdr`; yields postgresql://rthdr@127.0.0.1:PORT/rthdr."""
    binaries = bindir()
    if binaries is None:
        raise FileNotFoundError("PostgreSQL's initdb not found: apt-get install postgresql (make system)")
    # Not pytest's tmp_path: its parents are private to root, and the server runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="rthdr-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in (root, sockets):
            shutil.chown(path, "postgres", "postgres")
    port = free_port()

    def run(program: str, *arguments: str) -> None:
        command = as_server_user([str(binaries / program), "-D", str(data), *arguments])
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120, cwd=root)

    try:
        run("initdb", "-U", USER, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
        run("pg_ctl", "-l", str(log), "-o", options, "-w", "start")
        try:
            create_database(f"postgresql://{USER}@127.0.0.1:{port}/postgres", "rthdr")
            yield f"postgresql://{USER}@127.0.0.1:{port}/rthdr"
        finally:
            run("pg_ctl", "-m", "immediate", "-w", "stop")
    except subprocess.CalledProcessError as failed:
        server_log = log.read_text() if log.exists() else ""
        raise RuntimeError(f"{failed.cmd} failed:\n{failed.stderr}\n{server_log}") from failed
    finally:
        shutil.rmtree(root, ignore_errors=True)


def create_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(cluster_url: str) -> Iterator[str]:
    """A new, empty database in the cluster for one test; dropped afterwards."""
    admin = cluster_url.rsplit("/", 1)[0] + "/postgres"
    name = f"test_{uuid.uuid4().hex[:12]}"
    create_database(admin, name)
    try:
        yield cluster_url.rsplit("/", 1)[0] + "/" + name
    finally:
        drop_database(admin, name)
