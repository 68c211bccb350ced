"""Where the heavy work runs when not in the local process pool: a Dask distributed cluster.

`dask_cluster(address)` connects once per process (a catalogue's editions share the connection) and
submits tasks whose results come back as standard futures, so the narration waits on a cluster as it
waits on the local pool. A task that was running on a worker that died is run again on another
(Dask's own rescheduling); tasks are pure, so the bytes do not change. Dask is imported here only.
"""

from __future__ import annotations

import atexit
import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

SCHEDULER_VARIABLE = "EDITION_BUILDER_SCHEDULER"
CONNECT_TIMEOUT = "30s"


class DaskCluster:
    def __init__(self, address: str) -> None:
        from distributed import Client

        self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        self._running: set[Any] = set()  # Dask forgets a task whose future nobody holds
        self._lock = threading.Lock()

    def submit(self, function: Callable[..., Any], *arguments: Any) -> Future[Any]:
        remote = self.client.submit(function, *arguments, pure=False)
        local: Future[Any] = Future()
        with self._lock:
            self._running.add(remote)

        def done(finished: Any) -> None:
            with self._lock:
                self._running.discard(finished)
            try:
                local.set_result(finished.result())
            except BaseException as failure:  # the task's own error, or the cluster's
                local.set_exception(failure)

        remote.add_done_callback(done)
        return local

    def close(self) -> None:
        self.client.close()


@functools.cache
def dask_cluster(address: str) -> DaskCluster:
    cluster = DaskCluster(address)
    atexit.register(cluster.close)
    return cluster
