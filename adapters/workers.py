"""`aws-quiz serve --workers N`: N server processes sharing one listening socket.

The parent binds the port once and starts N worker processes (`aws-quiz serve --listen-fd`),
each a whole server (its own event loop, database pool, scheduler and recovery loop) accepting
connections from the same socket, so the kernel hands each connection to whichever worker is
free. Every worker runs the daily scheduler; the database claims make that safe, exactly as
with replicas on several machines. The parent restarts a worker that dies, forwards SIGTERM
and SIGINT to all of them, waits for their graceful shutdown and exits 0 when they all did.
SIGHUP (a knowledge reload) is forwarded to every worker; a worker that was asked to reload
over HTTP sends it to the parent, so that all of them reload.

Metrics: the workers share one prometheus-client multiprocess directory
(`PROMETHEUS_MULTIPROC_DIR`: the operator's, emptied at start, or a new temporary one removed at
the end), so `/metrics` on any worker reports the sum of all of them.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.config import Settings

log = logging.getLogger(__name__)

RESTART_DELAY = 1.0


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _metrics_dir() -> tuple[str, bool]:
    """The multiprocess metrics directory, emptied; and whether it is ours to remove."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return given, False
    return tempfile.mkdtemp(prefix="aws-quiz-metrics-"), True


def _spawn(host: str, port: int, fd: int, index: int,
           metrics_dir: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AWS_QUIZ_WORKER": str(index), "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
    return subprocess.Popen([sys.executable, "-m", "adapters.cli", "serve", "--host", host,
                             "--port", str(port), "--listen-fd", str(fd)],
                            pass_fds=(fd,), env=env)


def run_workers(settings: Settings, host: str, port: int, workers: int) -> int:
    """Run `workers` server processes on one socket until SIGTERM/SIGINT."""
    from bot.app import load_checked

    load_checked(settings)  # refuse a broken knowledge base once, before forking
    sock = _listen(host, port)
    fd = sock.fileno()
    metrics_dir, own_dir = _metrics_dir()
    procs = [_spawn(host, port, fd, i, metrics_dir) for i in range(workers)]
    stopping: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        stopping.append(signum)
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signum)

    def reload_all(signum: int, _frame: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGHUP)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGHUP, reload_all)
    where = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    log.info("listening on %s with %d worker processes (pids %s)", where, workers,
             ", ".join(str(p.pid) for p in procs))
    while not stopping:
        time.sleep(0.2)
        for index, proc in enumerate(procs):
            code = proc.poll()
            if code is not None and not stopping:
                log.warning("worker %d (pid %d) exited with %s; starting another", index,
                            proc.pid, code)
                _forget_metrics(proc.pid, metrics_dir)
                time.sleep(RESTART_DELAY)
                procs[index] = _spawn(host, port, fd, index, metrics_dir)
    sock.close()  # the workers hold their own copies until they stop accepting
    codes = [proc.wait() for proc in procs]
    log.info("all workers stopped (exit codes %s)", codes)
    if own_dir:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0 if all(code == 0 for code in codes) else 1


def _forget_metrics(pid: int, directory: str) -> None:
    """A dead worker's per-process gauges go; its counters stay in the sums."""
    from prometheus_client import multiprocess

    try:
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
    except OSError:
        log.debug("could not remove the metrics of worker pid %d", pid, exc_info=True)
