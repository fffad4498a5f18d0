"""Model calls with optional dynamic micro-batching.

A request's CPU work (decoding, preprocessing, the model: about 2 ms for a canvas) runs on the
worker's event loop itself. Worker processes, one per core, give the parallelism; threads inside a
worker only added GIL hand-offs. Measured with wrk, server and wrk pinned to one core, five
alternating rounds: one worker thread for the CPU work gave ~390 requests/s at concurrency 8, 2.5 ms
of server CPU per request and 2.55 ms p50 at concurrency 1; on the event loop ~430 requests/s,
2.26 ms and 2.30 ms. (Starlette's thread pool, before that: ~4.4 ms of CPU per request.)

The loop also takes each request's work in stages (`next_stage`): every request in flight decodes,
then every one preprocesses, and so on, which keeps each stage's code and data in the CPU's caches.

With a window > 0, concurrent requests' images are gathered (up to `max_batch` images, waiting at
most `window_ms` and only while under load) and run as one batch: one ONNX Runtime call for many
images costs less than one call each, and the loop prepares the next requests while a batch fills.
With a window of 0 (the default) each request's images run alone, at once. The model is about a
tenth of a request's work: batching pays only past saturation (more requests/s at concurrency 64)
and lengthens the tail below it (p99 at concurrency 32); the figures are in docs/speed.md.
"""

from __future__ import annotations

import asyncio

import numpy as np

from rthdr.core.characters import Outputs
from rthdr.core.inference import Classifier, Prediction, predictions


async def next_stage() -> None:
    """Give way to the event loop between two stages of a request's work (cohort scheduling, Larus and
    Parkes, USENIX 2002): the loop then runs the stage at hand for every request in flight before any
    request runs its next, so the PNG decoder's, OpenCV's and each model's code and data are still in
    the CPU's caches for the next request. Taken in one go, a request found them evicted by the
    stages before it: in the service, each stage took 1.5-3 times as long as it does run in a loop
    (docs/speed.md). At concurrency 1 a stage boundary costs one pass of the loop."""
    await asyncio.sleep(0)


class Predictor:
    def __init__(self, classifier: Classifier, window_ms: float = 1.0, max_batch: int = 64) -> None:
        self.classifier = classifier
        self.window = window_ms / 1000
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[np.ndarray, asyncio.Future[Outputs]]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.window > 0:
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._gather_and_run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def predict(self, images: np.ndarray) -> list[Prediction]:
        """(N, 28, 28) model inputs -> N predictions."""
        return predictions(*await self.run(images))

    async def run(self, images: np.ndarray) -> Outputs:
        """(N, 28, 28) model inputs -> the model's N probabilities and class maps."""
        if self._queue is None:
            # A stage of its own, as a batch would be: its request's time limit
            # (RequestContextMiddleware) can end it here, after the decoding and preprocessing.
            await next_stage()
            return self.classifier.run(images)
        future: asyncio.Future[Outputs] = asyncio.get_running_loop().create_future()
        await self._queue.put((images, future))
        return await future

    async def _gather_and_run(self) -> None:
        """Take what is queued; under load (the last batch had company) wait up to the window for
        more. A lone request at low load never waits, so batching costs it no latency."""
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        under_load = False
        while True:
            waiting = [await self._queue.get()]
            count = len(waiting[0][0])
            deadline = loop.time() + (self.window if under_load else 0.0)
            while count < self.max_batch:
                if not self._queue.empty():
                    # Taken without waiting: on Python 3.11, wait_for with no time left cancels
                    # even a get() that has an item ready, and every batch was one request.
                    item = self._queue.get_nowait()
                elif (left := deadline - loop.time()) > 0:
                    try:
                        item = await asyncio.wait_for(self._queue.get(), left)
                    except TimeoutError:
                        break
                else:
                    break
                waiting.append(item)
                count += len(item[0])
            under_load = len(waiting) > 1
            self._run(waiting)

    def _run(self, waiting: list[tuple[np.ndarray, asyncio.Future[Outputs]]]) -> None:
        batch = np.concatenate([images for images, _ in waiting])
        try:
            probabilities, cam = self.classifier.run(batch)
        except Exception as exc:  # hand the failure to every waiting request, keep serving
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for images, future in waiting:
            if not future.done():  # the request may have been cancelled (client gone, timeout)
                future.set_result(
                    (probabilities[start : start + len(images)], cam[start : start + len(images)])
                )
            start += len(images)
