"""Real gateway servers for end-to-end tests, set up the way an operator would.

``gateway db upgrade`` and ``gateway seed`` prepare the database, ``gateway token issue``
signs the tokens, and each server is its own ``uvicorn`` process on a free port. The
environment is built from scratch (no ``GATEWAY_*`` variable leaks in from the caller's
shell), so a test states every setting its servers run with.

Example::

    env = gateway_env("sqlite+aiosqlite:////tmp/gw.db")
    prepare_database(env)
    tokens = issue_tokens(env, "police.demo")
    with uvicorn_server(env, tmp / "uvicorn.log") as server:
        httpx.post(f"{server.base_url}/graphql", ...)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.cli.serve import KEEP_ALIVE_SECONDS

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "e2e-secret-key-0123456789abcdef0123456789"
# uvicorn's access line prints the full URL, query string and all; the gateway writes its own. Idle
# connections held as `gateway serve` holds them (gateway.cli.serve: longer than a router's).
UVICORN = [
    sys.executable,
    "-m",
    "uvicorn",
    "gateway.app:app_from_env",
    "--factory",
    "--no-access-log",
    "--timeout-keep-alive",
    str(KEEP_ALIVE_SECONDS),
]


def gateway_env(db_url: str, **settings: str) -> dict[str, str]:
    """The process environment for the CLI and servers: ``GATEWAY_DB_URL``, a fixed key, ``settings``.

    ``settings`` are given without the prefix: ``gateway_env(url, FEED_POLL_SECONDS="30")``.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("GATEWAY_")}
    env.update(
        {
            "GATEWAY_DB_URL": db_url,
            "GATEWAY_SECRET_KEY": SECRET_KEY,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({f"GATEWAY_{name}": value for name, value in settings.items()})
    return env


def _gateway_command() -> list[str]:
    script = Path(sys.executable).with_name("gateway")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gateway.cli"]


def run_cli(env: dict[str, str], *args: str) -> str:
    """Run ``gateway ARGS``; its stdout, or the test fails with what it printed."""
    done = subprocess.run(
        [*_gateway_command(), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"`gateway {' '.join(args)}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare_database(env: dict[str, str]) -> None:
    """Migrate and seed the database named by ``env``."""
    run_cli(env, "db", "upgrade")
    run_cli(env, "seed")


def issue_tokens(env: dict[str, str], *principals: str) -> dict[str, str]:
    """One token per principal id, issued by ``gateway token issue`` processes run side by side."""
    running = {
        principal: subprocess.Popen(
            [*_gateway_command(), "token", "issue", "--principal", principal],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for principal in principals
    }
    tokens: dict[str, str] = {}
    problems: list[str] = []
    for principal, process in running.items():
        try:
            out, err = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        lines = out.strip().splitlines()
        if process.returncode != 0 or not lines:
            problems.append(f"`gateway token issue --principal {principal}` exited {process.returncode}:\n{out}\n{err}")
        else:
            tokens[principal] = lines[-1].strip()
    if problems:
        pytest.fail("\n".join(problems))
    return tokens


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """One running uvicorn process."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def log_tail(self, size: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-size:] if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL: the process dies at once, with no shutdown of any kind."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_uvicorn(env: dict[str, str], log: Path) -> Server:
    """Start a server on a free port; it may not be ready yet (see ``wait_healthy``)."""
    port = free_port()
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [*UVICORN, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    return Server(process, port, log)


def wait_healthy(server: Server, timeout: float = 30.0) -> None:
    """Wait until ``/healthz`` answers 200 (the lifespan, feed included, has started)."""
    url = f"{server.base_url}/healthz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"uvicorn exited {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} did not answer 200 within {timeout}s:\n{server.log_tail()}")


@contextmanager
def uvicorn_servers(
    env: dict[str, str], logs: list[Path], meanwhile: Callable[[], None] | None = None
) -> Iterator[list[Server]]:
    """As many servers as ``logs``, started side by side on one environment; all stopped afterwards.

    ``meanwhile`` runs while they start up (issuing tokens, say), to save the wait.
    """
    servers: list[Server] = []
    try:
        for log in logs:
            servers.append(start_uvicorn(env, log))
        if meanwhile is not None:
            meanwhile()
        for server in servers:
            wait_healthy(server)
        yield servers
    finally:
        for server in servers:
            server.stop()


@contextmanager
def uvicorn_server(env: dict[str, str], log: Path, meanwhile: Callable[[], None] | None = None) -> Iterator[Server]:
    """One server on ``env``, stopped afterwards."""
    with uvicorn_servers(env, [log], meanwhile) as (server,):
        yield server
