"""Live policy reload: when a policy file changes (or on SIGHUP), check the folder and, if it is
sound, rebuild every role's schema. A folder with problems leaves the policy in force as it is."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from gateway.pipeline.runtime import Runtime
from gateway.policy import load_and_check
from gateway.schema import visible_fields

log = logging.getLogger("gateway.policy")

Snapshot = frozenset[tuple[str, int, int]]


def snapshot(folder: Path) -> Snapshot:
    """(path, mtime_ns, size) of every policy file: what ``load_policies`` reads."""
    found = set()
    for path in folder.rglob("*.yaml"):
        with contextlib.suppress(OSError):  # removed while listing
            stat = path.stat()
            found.add((str(path.relative_to(folder)), stat.st_mtime_ns, stat.st_size))
    return frozenset(found)


class PolicyWatcher:
    def __init__(self, runtime: Runtime, folder: Path, interval: float = 1.0) -> None:
        self.runtime = runtime
        self.folder = folder
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._signal: signal.Signals | None = None

    def start(self) -> None:
        """Poll the folder from a task of the running loop, and reload on SIGHUP where there is one."""
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._poll(snapshot(self.folder)), name="policy-watch")
        hangup = getattr(signal, "SIGHUP", None)
        if hangup is None:
            return
        try:
            loop.add_signal_handler(hangup, self._on_hangup)
        except (NotImplementedError, RuntimeError, ValueError) as error:
            # No signal handlers on Windows loops, nor off the main thread (e.g. under some test runners).
            log.info("policy reload on SIGHUP unavailable: %s", error)
        else:
            self._signal = hangup

    async def stop(self) -> None:
        if self._signal is not None:
            asyncio.get_running_loop().remove_signal_handler(self._signal)
            self._signal = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def reload(self) -> list[str]:
        """Check the folder and load it; the problems that kept it out (empty when it is in force)."""
        registry = self.runtime.registry
        roles = registry.demo_principals.keys()
        fields = visible_fields(self.runtime.full_schema)
        policies, problems = load_and_check(self.folder, registry.domains, roles, fields)
        current = self.runtime.policies.version
        if policies is None or problems:
            for problem in problems:
                log.error("%s", problem)
            log.error("policy files in %s have problems; version %s stays in force", self.folder, current)
            return problems
        if policies.version == current:
            return []
        try:
            # The very set that was checked goes into force, not a second reading of the files.
            loaded = self.runtime.install(policies)
        except Exception as error:
            log.exception("loading policies from %s failed; version %s stays in force", self.folder, current)
            return [f"{self.folder}: {error}"]
        log.info("policy version %s in force (%d roles)", loaded.version, len(loaded.roles))
        return []

    async def _poll(self, seen: Snapshot) -> None:
        while True:
            await asyncio.sleep(self.interval)
            now = snapshot(self.folder)
            if now != seen:
                seen = now
                self._reload_logged()

    def _on_hangup(self) -> None:
        log.info("SIGHUP: reloading policies from %s", self.folder)
        self._reload_logged()

    def _reload_logged(self) -> None:
        # The watcher must outlive any surprise in a policy file.
        try:
            self.reload()
        except Exception:
            log.exception("policy reload failed")
