"""The servers a run starts: each in its own process group, each stopped at the end, whatever happens."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx


class BenchError(RuntimeError):
    """A reason the run cannot go on, said plainly to whoever ran it."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    name: str
    base: str
    pid: int


@contextlib.contextmanager
def running(name: str, argv: list[str], *, cwd: Path, env: Mapping[str, str], port: int, log: Path) -> Iterator[Server]:
    """Start ``argv``, wait until it answers HTTP on ``port``, yield it, and stop it on the way out."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(name, process, base, log)
            yield Server(name, base, process.pid)
        finally:
            _stop(process)


def _wait_ready(name: str, process: subprocess.Popen[bytes], base: str, log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{name} exited with code {process.returncode} before serving; its log:\n{_tail(log)}")
        try:
            httpx.get(base + "/", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.25)
    raise BenchError(f"{name} did not answer on {base} within {timeout:.0f} s; its log:\n{_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # The server was started in a session of its own, so its group holds it and its children only.
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def settle(server: Server, quiet: float = 0.05, timeout: float = 120.0) -> None:
    """Wait until ``server`` is idle: a load generator that stops drops its connections, but a
    server may go on computing the answers nobody waits for, and that work must not be charged to
    the next measurement. Idle: under ``quiet`` CPU seconds in half a second."""
    deadline = time.monotonic() + timeout
    before = _cpu_seconds(server.pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _cpu_seconds(server.pid)
        if now - before < quiet:
            return
        before = now


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # utime and stime, fields 14 and 15 of proc(5), counted from after the command name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
