"""Throughput and latency under concurrent clients, measured by wrk (Debian's package) for every
server alike. A Lua script sends the call, counts answers that are not a 200 or carry GraphQL
``errors``, and prints one JSON line of results."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.compare.processes import BenchError
from bench.compare.scenarios import Call

SCRIPT = r"""
wrk.method = "{method}"
{body}
{headers}
local counter = 0
-- globals, so that done() can read them back from each thread
bad = 0
first_bad = nil
function setup(thread)
  -- unique across runs (the run's token) and threads (their number)
  thread:set("id", "{run}-" .. tostring(#threads + 1))
  table.insert(threads, thread)
end
threads = {{}}
{request}
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    bad = bad + 1
    if first_bad == nil then first_bad = tostring(status) .. " " .. string.sub(body, 1, 300) end
  end
end
function done(summary, latency, requests)
  local total_bad = 0
  local sample = ""
  for _, thread in ipairs(threads) do
    total_bad = total_bad + (thread:get("bad") or 0)
    sample = sample .. (thread:get("first_bad") or "")
  end
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {{"requests": %d, "micros": %d, "p50": %d, "p99": %d, "socket_errors": %d, "bad": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, total_bad))
  if sample ~= "" then io.write("SAMPLE " .. sample .. "\n") end
end
"""

UNIQUE_REQUEST = """
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, (string.gsub(template, "{unique}", id .. "-" .. counter)))
end
"""


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise BenchError("wrk is not installed: `apt-get install wrk` (make bench-compare installs it when it can)")
    return found


def script(call: Call) -> str:
    body = "" if call.body is None else f"wrk.body = [==[{call.body}]==]\ntemplate = wrk.body"
    headers = "\n".join(f'wrk.headers["{k}"] = [==[{v}]==]' for k, v in call.headers.items())
    unique = call.body is not None and "{unique}" in call.body
    request = UNIQUE_REQUEST if unique else ""
    return SCRIPT.format(method=call.method, body=body, headers=headers, request=request, run=secrets.token_hex(6))


def run(base: str, call: Call, clients: int, seconds: int) -> Load:
    """Drive ``base`` with ``clients`` connections for ``seconds``, one wrk thread."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script(call))
        path = Path(file.name)
    try:
        argv = [require_wrk(), "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "120s", "-s", str(path)]
        done = subprocess.run(
            [*argv, base + call.path],
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 180,
        )
    finally:
        path.unlink()
    result = next((line[7:] for line in done.stdout.splitlines() if line.startswith("RESULT ")), None)
    if done.returncode != 0 or result is None:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout[-1000:]}")
    figures = json.loads(result)
    failed = int(figures["socket_errors"]) + int(figures["bad"])
    sample = next((line[7:] for line in done.stdout.splitlines() if line.startswith("SAMPLE ")), "")
    if failed and figures["requests"] and failed * 100 > figures["requests"]:
        raise BenchError(f"{failed} of {figures['requests']} requests to {base}{call.path} failed, e.g. {sample}")
    return Load(
        requests=int(figures["requests"]),
        seconds=int(figures["micros"]) / 1e6,
        p50_ms=int(figures["p50"]) / 1000,
        p99_ms=int(figures["p99"]) / 1000,
        failed=failed,
    )
