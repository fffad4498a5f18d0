"""Running the app under Uvicorn: worker processes sized from the core count, each on a listening
socket of its own, shared metrics.

Why not Uvicorn's own `--workers`: its workers share one listening socket, and whichever is awake
when clients connect accepts the whole burst. Measured with wrk here, 32 keep-alive connections
split 26/6, 5/27 or 25/7 between two workers, and the crowded worker's clients waited several times
as long as the others. With a socket per worker on the same port (SO_REUSEPORT, as nginx's
`reuseport`), the kernel spreads connections over the workers by their addresses: 18/14, 19/13, 13/19.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import tempfile
import threading
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from rthdr.api.request_log import configure_logging
from rthdr.api.settings import get_settings
from rthdr.core.inference import Classifier

logger = logging.getLogger("rthdr.server")
GRACE_S = 10  # in-flight requests get this long to finish once a worker is told to stop
# Python's own event loop, not uvloop: a busy worker serves its connections in turn. uvloop served
# some far more often than others (57 to 81 requests each over one run at concurrency 32, one worker),
# and the starved ones waited up to a second, ten times the median; asyncio gave each 93 or 94, with
# no less throughput for requests that are ~2 ms of CPU work each.
EVENT_LOOP = "asyncio"


def available_cpus() -> int:
    """CPUs this process may use: the container's CPU limit (cgroup v2 cpu.max) if there is one,
    else the CPUs it is allowed to run on. os.cpu_count() would count the whole node's cores."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return count


APP = "rthdr.api.main:create_app"


def serve(host: str, port: int, workers: int, model: str, reload: bool = False) -> int:
    """Settings travel to the worker processes through the environment. Returns the exit status."""
    Classifier(model)  # fail now, with a clear message, rather than in every worker
    os.environ["RTHDR_MODEL"] = str(model)
    workers = workers or available_cpus()
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "loop": EVENT_LOOP,
        "timeout_graceful_shutdown": GRACE_S,
        "timeout_keep_alive": 5,
        "access_log": False,  # RequestContextMiddleware logs each request, with its ID
        "log_config": configure_logging(get_settings().log_json),
    }
    if reload:
        uvicorn.run(APP, reload=True, **options)
        return 0
    if workers == 1:
        server = Server(uvicorn.Config(APP, **options))
        with contextlib.suppress(KeyboardInterrupt):  # Uvicorn raises a Ctrl-C again once stopped
            server.run()
        return 0 if server.started else STARTUP_FAILURE
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="rthdr-metrics-"))
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    return Workers(uvicorn.Config(APP, **options), workers).run()


class Server(uvicorn.Server):
    """Uvicorn's server, which once the app has started moves every object then alive (modules,
    models, the app) into the collector's permanent generation (gc.freeze). They live as long as the
    worker, and a full collection that walked them all took ~40 ms, stalling every request in
    flight, about every 2 s under load; frozen, it takes ~0.4 ms (docs/speed.md)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        gc.collect()  # the start-up's own garbage first: frozen, it would never be freed
        gc.freeze()


def listening_socket(host: str, port: int, share_port: bool) -> socket.socket:
    """A bound TCP socket; with `share_port`, one of several on the same port (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on the
    # connections of sockets that say they are TCP, and with it on, a response's second write waits
    # for the client's delayed ACK (40 ms per request at concurrency 1, measured).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def run_worker(config: uvicorn.Config) -> None:
    """One worker process: Uvicorn on its own socket; SIGTERM makes it finish in-flight requests, and
    so does its parent's death (a killed supervisor must not leave workers nobody watches)."""
    config.configure_logging()  # a spawned process starts with Python's default logging
    server = Server(config)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent, server), daemon=True).start()
    try:
        server.run(sockets=[listening_socket(config.host, config.port, share_port=True)])
    except (Exception, SystemExit):  # Uvicorn exits with 1 when it cannot import the app
        if server.started:
            raise
        logger.exception("worker could not start")
    if not server.started:  # the app, its model or the socket is broken: restarting would not help
        raise SystemExit(STARTUP_FAILURE)


def _exit_with(parent: BaseProcess, server: uvicorn.Server) -> None:
    multiprocessing.connection.wait([parent.sentinel])
    server.should_exit = True


class Workers:
    """Starts `count` workers, replaces any that dies, and on SIGINT, SIGTERM or SIGHUP stops them all
    gracefully. While it runs, the parent holds the port with a socket that never listens: a second
    server cannot take it, and only the workers' sockets receive connections, so a dead worker's
    socket closes with it and new connections go to the living (any already queued on the dead one
    are reset, which its clients see as a refused connection)."""

    def __init__(self, config: uvicorn.Config, count: int) -> None:
        self.config, self.count = config, count
        self.context = multiprocessing.get_context("spawn")
        self.stop_signal: int | None = None  # set by the signal handler: nothing there may block

    def start_one(self) -> BaseProcess:
        process = self.context.Process(target=run_worker, args=(self.config,), name="rthdr-worker")
        process.start()
        return process

    def run(self) -> int:
        host, port = self.config.host, self.config.port
        try:
            # Without SO_REUSEPORT first: a port another server holds is refused here, as a single
            # worker would refuse it, instead of being silently shared.
            listening_socket(host, port, share_port=False).close()
            holder = listening_socket(host, port, share_port=True)
        except OSError as exc:
            logger.error("cannot listen on %s:%d: %s", host, port, exc.strerror)
            return STARTUP_FAILURE
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda number, _: setattr(self, "stop_signal", number))
        processes: list[BaseProcess] = []
        try:
            processes = [self.start_one() for _ in range(self.count)]
            logger.info("started %d workers on port %d, one socket each", self.count, port)
            return self.supervise(processes)
        finally:
            for process in processes:
                if process.is_alive() and process.pid is not None:
                    os.kill(process.pid, signal.SIGTERM)
            for process in processes:
                process.join(GRACE_S + 5)
                if process.is_alive():
                    process.kill()
            holder.close()
            logger.info("all workers stopped")

    def supervise(self, processes: list[BaseProcess]) -> int:
        """Until a stop signal: replace dead workers. Returns the exit status."""
        while self.stop_signal is None:
            multiprocessing.connection.wait([p.sentinel for p in processes], timeout=0.5)
            for index, process in enumerate(processes):
                if process.is_alive() or self.stop_signal is not None:
                    continue
                if process.exitcode == STARTUP_FAILURE:  # the app cannot start: restarts would fail alike
                    logger.error("worker %s failed to start; stopping", process.pid)
                    return STARTUP_FAILURE
                logger.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
                processes[index] = self.start_one()
        return 0
