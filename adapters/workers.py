"""`aws-quiz serve --workers N`: N server processes sharing one listening socket.

The parent binds the port once and starts N worker processes (`aws-quiz serve --listen-fd`),
each a whole server (its own event loop, database pool, scheduler and recovery loop) accepting
connections from the same socket, so the kernel hands each connection to whichever worker is
free. Every worker runs the daily scheduler; the database claims make that safe, exactly as
with replicas on several machines. The parent restarts a worker that dies, forwards SIGTERM
and SIGINT to all of them, waits for their graceful shutdown and exits 0 when they all did.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time

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


def _spawn(host: str, port: int, fd: int, index: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AWS_QUIZ_WORKER": str(index)}
    return subprocess.Popen([sys.executable, "-m", "adapters.cli", "serve", "--host", host,
                             "--port", str(port), "--listen-fd", str(fd)],
                            pass_fds=(fd,), env=env)


def run_workers(settings: Settings, host: str, port: int, workers: int) -> int:
    """Run `workers` server processes on one socket until SIGTERM/SIGINT."""
    from bot.app import load_checked

    load_checked(settings)  # refuse a broken knowledge base once, before forking
    sock = _listen(host, port)
    fd = sock.fileno()
    procs = [_spawn(host, port, fd, i) for i in range(workers)]
    stopping: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        stopping.append(signum)
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    log.info("serving on %s:%d with %d worker processes (pids %s)", host, port, workers,
             ", ".join(str(p.pid) for p in procs))
    while not stopping:
        time.sleep(0.2)
        for index, proc in enumerate(procs):
            code = proc.poll()
            if code is not None and not stopping:
                log.warning("worker %d (pid %d) exited with %s; starting another", index,
                            proc.pid, code)
                time.sleep(RESTART_DELAY)
                procs[index] = _spawn(host, port, fd, index)
    sock.close()  # the workers hold their own copies until they stop accepting
    codes = [proc.wait() for proc in procs]
    log.info("all workers stopped (exit codes %s)", codes)
    return 0 if all(code == 0 for code in codes) else 1
