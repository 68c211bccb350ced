"""A Dask cluster on this machine, for the benchmark's (f) and the cluster tests: `dask scheduler` and
single-threaded `dask worker` processes on 127.0.0.1 (a free port), stopped afterwards, started as the README
tells: builder preloaded, Dask's sampling profiler off. Worker n keeps its files (the editions it is building)
in `LOGS/worker-n/`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DASK = Path(sys.executable).with_name("dask")
WORKER_OPTIONS = ("--nthreads", "1", "--preload", "builder.run.remote")  # the README's
WORKER_ENVIRONMENT = {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}  # the README's


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check: Callable[[], object], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.2)


@contextmanager
def dask_cluster(workers: int, logs: Path, nanny: bool = True) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """The scheduler's address and the worker processes. Without a nanny a killed worker stays dead, as a
    lost machine would (the tests kill one)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"

    def start(name: str, *arguments: str, environment: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with (logs / f"{name}.log").open("wb") as log:
            return subprocess.Popen([str(DASK), *arguments], cwd=PROJECT, stdout=log, stderr=log,
                                    env=os.environ | (environment or {}))

    processes = [start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")]
    try:
        wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, "the Dask scheduler")
        started = [start(f"worker-{n}", "worker", address, *WORKER_OPTIONS, "--no-dashboard", "--host",
                         "127.0.0.1", "--name", f"worker-{n}", "--local-directory", str(logs / f"worker-{n}"),
                         *(() if nanny else ("--no-nanny",)), environment=WORKER_ENVIRONMENT)
                   for n in range(1, workers + 1)]
        processes += started
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address, started
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
