"""Load on a real server (`rthdr.bench.server.serving`) and what to watch while it runs: requests from
threads over keep-alive connections, each outcome recorded; the workers' pids and resident memory.

Threads with http.client, not wrk: the fault tests need each request's status and time (a 4xx must
not pass for a 5xx, a refused connection must be counted), which wrk only sums up."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from rthdr.bench.server import Served

PREDICT = "/api/v1/predict"
JSON = "application/json"


def post(url: str, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """One POST on a new connection: the status and the JSON body, errors included."""
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type, **(headers or {})}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for_log(server: Served, pattern: str, times: int) -> list[str]:
    """The matches of `pattern` in the server's log once there are `times` of them."""
    deadline = time.monotonic() + 60
    while len(found := re.findall(pattern, server.output())) < times:
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.2)
    return found


def worker_pids(server: Served, at_least: int = 0) -> list[int]:
    """Every worker the server has started so far, in order (dead ones too)."""
    return [int(pid) for pid in wait_for_log(server, r"Started server process \[(\d+)\]", at_least)]


def resident_kib(pid: int) -> int:
    """A process's resident memory now (VmRSS in /proc/PID/status), in KiB."""
    line = next(
        row for row in Path(f"/proc/{pid}/status").read_text().splitlines() if row.startswith("VmRSS:")
    )
    return int(line.split()[1])


def percentile(values: Sequence[float], share: float) -> float:
    """The value `share` (0-1) of the way up the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass(frozen=True)
class Outcome:
    started: float  # time.monotonic() when the request was sent
    body: int  # its index in Load.bodies
    seconds: float
    status: int | None  # None: the connection failed (refused, reset, timed out)


@dataclass
class Load:
    """`concurrency` threads, each posting `bodies` in turn on a keep-alive connection of its own (a
    new one after any failure), until the block ends. `outcomes` grows as they go."""

    url: str
    bodies: Sequence[tuple[bytes, str]]  # (body, Content-Type)
    concurrency: int
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        for index in range(self.concurrency):
            thread = threading.Thread(target=self._client, args=(index,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def since(self, moment: float) -> list[Outcome]:
        """The outcomes of requests sent at or after `moment`, in the order they were sent."""
        return sorted((o for o in list(self.outcomes) if o.started >= moment), key=lambda o: o.started)

    def _client(self, index: int) -> None:
        host, port = self.url.split("//", 1)[1].rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        turn = index  # threads start at different bodies, so every mix is in flight at once
        while not self._stop.is_set():
            which = turn % len(self.bodies)
            body, content_type = self.bodies[which]
            turn += 1
            started = time.monotonic()
            status: int | None
            try:
                connection.request("POST", PREDICT, body=body, headers={"Content-Type": content_type})
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    connection.close()  # http.client reconnects on the next request
            except (OSError, http.client.HTTPException):
                status = None
                connection.close()
            self.outcomes.append(Outcome(started, which, time.monotonic() - started, status))
        connection.close()
