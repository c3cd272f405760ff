"""The floor: what serving a page costs when PostgreSQL builds the whole JSON in one ``json_agg``
statement and Python only passes its text on. Same rows, same scoping, same shape (global IDs
included) as the gateway's answer; no GraphQL, no authentication, no audit.

    uvicorn bench.compare.floor:app   (env: BENCH_FLOOR_DATABASE_URL)

The caller's grid, street and staff id come in headers (``X-Grid-Id``, ``X-Street-Id``,
``X-Staff-Id``; an officer's or a committee's grids in ``X-Grids`` and ``X-Street-Grids``),
standing in for what a token would say. The task list and the statistics call the SQL functions
postgraphile.sql creates (``task_list``, ``*_counts``), so both sides run the same query.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _gid(kind: str, column: str) -> str:
    # The gateway's global ID: base64url("Type:pk") without padding.
    return f"rtrim(translate(encode(convert_to('{kind}:' || {column}, 'UTF8'), 'base64'), '+/', '-_'), '=')"


GRID_WORKER_PAGE = f"""
SELECT json_build_object('data', json_build_object('residents', json_build_object(
  'totalCount', (SELECT count(*) FROM resident WHERE grid_id = $1),
  'nodes', coalesce((
    SELECT json_agg(json_build_object(
      'id', {_gid("Resident", "r.id")}, 'name', r.name, 'address', r.address,
      'ageBand', age_band(r.birth_date),
      'household', (SELECT json_build_object('number', h.number) FROM household h
                    WHERE h.id = r.household_id AND h.grid_id = $1)
    ) ORDER BY r.id)
    FROM (SELECT * FROM resident WHERE grid_id = $1 ORDER BY id LIMIT 20) AS r), '[]'::json))))::text
"""

NESTED_PAGE = f"""
SELECT json_build_object('data', json_build_object('grids', json_build_object(
  'totalCount', (SELECT count(*) FROM grid),
  'nodes', coalesce((
    SELECT json_agg(json_build_object(
      'id', {_gid("Grid", "g.id")}, 'name', g.name,
      'residents', json_build_object(
        'totalCount', (SELECT count(*) FROM resident WHERE grid_id = g.id),
        'nodes', coalesce((
          SELECT json_agg(json_build_object(
            'id', {_gid("Resident", "r.id")}, 'name', r.name, 'idNumber', r.id_number,
            'household', (SELECT json_build_object('number', h.number) FROM household h WHERE h.id = r.household_id),
            'disputes', json_build_object('nodes', coalesce((
              SELECT json_agg(json_build_object('id', {_gid("Dispute", "d.id")}, 'title', d.title) ORDER BY d.id)
              FROM (SELECT d.id, d.title FROM dispute d JOIN dispute_party p ON p.dispute_id = d.id
                    WHERE p.resident_id = r.id ORDER BY d.id LIMIT 5) AS d), '[]'::json))
          ) ORDER BY r.id)
          FROM (SELECT * FROM resident WHERE grid_id = g.id ORDER BY id LIMIT $1) AS r), '[]'::json))
    ) ORDER BY g.id)
    FROM (SELECT * FROM grid ORDER BY id LIMIT $1) AS g), '[]'::json))))::text
"""

OFFICER_TASKS = """
SELECT json_build_object('data', json_build_object('myTasks', json_build_object(
  'totalCount', (SELECT count(*) FROM task_list($1, $2)),
  'nodes', coalesce((
    SELECT json_agg(json_build_object(
      'kind', t.kind, 'title', t.title, 'urgency', t.urgency, 'createdAt', t.since,
      'subjectId', rtrim(translate(encode(convert_to(t.record_type || ':' || t.record_id, 'UTF8'), 'base64'),
                                   '+/', '-_'), '=')
    ) ORDER BY t.urgency DESC, t.since, t.record_id)
    FROM (SELECT * FROM task_list($1, $2) ORDER BY urgency DESC, since, record_id LIMIT 20) AS t), '[]'::json))))::text
"""


def _statistic(source: str, dimensions: dict[str, str]) -> str:
    """One statistic's JSON in the gateway's shape, from a ``stat_count`` function's rows."""
    parts = [f"'total', (SELECT count FROM {source} WHERE dimension = 'total')"]
    for field, dimension in dimensions.items():
        buckets = (
            "json_agg(json_build_object('key', key, 'count', count) ORDER BY key COLLATE \"C\")"
            f" FROM {source} WHERE dimension = '{dimension}'"
        )
        parts.append(f"'{field}', coalesce((SELECT {buckets}), '[]'::json)")
    return "json_build_object(" + ", ".join(parts) + ")"


RESIDENT_DIMENSIONS = {"byAgeBand": "ageBand", "byRegistrationKind": "registrationKind", "byGender": "gender"}
COMMITTEE_STATS = f"""
WITH r AS (SELECT * FROM resident_counts($1)), d AS (SELECT * FROM dispute_counts($2)),
     g AS (SELECT * FROM grid_counts())
SELECT json_build_object('data', json_build_object(
  'residentStats', {_statistic("r", RESIDENT_DIMENSIONS)},
  'disputeStats', {_statistic("d", {"byCategory": "category", "byStatus": "status"})},
  'gridStats', {_statistic("g", {"byRiskColour": "riskColour"})}))::text
"""

CITY_PAGE = f"""
SELECT json_build_object('data', json_build_object('residents', json_build_object(
  'totalCount', (SELECT count(*) FROM resident),
  'nodes', coalesce((
    SELECT json_agg(json_build_object('id', {_gid("Resident", "r.id")}, 'name', r.name) ORDER BY r.id)
    FROM (SELECT id, name FROM resident ORDER BY id LIMIT 20) AS r), '[]'::json))))::text
"""

EXPORT_PAGE = f"""
WITH page AS (SELECT id, name, id_number, address FROM resident WHERE id > $1 ORDER BY id LIMIT $2)
SELECT json_build_object('data', json_build_object('residents', json_build_object(
  'pageInfo', json_build_object(
    'endCursor', (SELECT max(id) FROM page)::text,
    'hasNextPage', EXISTS (SELECT 1 FROM resident WHERE id > (SELECT max(id) FROM page))),
  'nodes', coalesce((
    SELECT json_agg(json_build_object(
      'id', {_gid("Resident", "id")}, 'name', name, 'idNumber', id_number, 'address', address) ORDER BY id)
    FROM page), '[]'::json))))::text
"""

# Dated as PostGraphile's are (scenarios.py): outside the 30 days the gateway's risk colour counts, so
# that the other servers' rows do not weigh on the gateway's next round of the same write.
REPORT_DISPUTE = f"""
INSERT INTO dispute (code, title, category, description, grid_id, street_id, reporter_staff_id, status,
                     reported_at, version)
VALUES ('FL' || substr(md5(random()::text || clock_timestamp()::text), 1, 22), $1, 'neighbour', $2, $3, $4, $5,
        'reported', '2026-03-01T09:00:00+08:00', 1)
RETURNING json_build_object('data', json_build_object('reportDispute', json_build_object(
  'dispute', json_build_object('id', {_gid("Dispute", "id")}))))::text
"""


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


def _json(text: str) -> Response:
    return Response(text, media_type="application/json")


async def grid_worker_page(request: Request) -> Response:
    grid = int(request.headers["x-grid-id"])
    return _json(await _pool(request).fetchval(GRID_WORKER_PAGE, grid))


def _ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


async def officer_tasks(request: Request) -> Response:
    grids, staff = _ids(request.headers["x-grids"]), int(request.headers["x-staff-id"])
    return _json(await _pool(request).fetchval(OFFICER_TASKS, grids, staff))


async def committee_stats(request: Request) -> Response:
    grids, street = _ids(request.headers["x-grids"]), _ids(request.headers["x-street-grids"])
    return _json(await _pool(request).fetchval(COMMITTEE_STATS, grids, street))


async def city_page(request: Request) -> Response:
    return _json(await _pool(request).fetchval(CITY_PAGE))


async def nested_page(request: Request) -> Response:
    size = int(request.query_params.get("n", "50"))
    return _json(await _pool(request).fetchval(NESTED_PAGE, size))


async def export_page(request: Request) -> Response:
    after = int(request.query_params.get("after") or 0)
    size = int(request.query_params.get("first", "100"))
    return _json(await _pool(request).fetchval(EXPORT_PAGE, after, size))


async def report_dispute(request: Request) -> Response:
    body: dict[str, Any] = json.loads(await request.body())
    headers = request.headers
    text = await _pool(request).fetchval(
        REPORT_DISPUTE,
        str(body["title"]),
        str(body["description"]),
        int(headers["x-grid-id"]),
        int(headers["x-street-id"]),
        int(headers["x-staff-id"]),
    )
    return _json(text)


async def ready(request: Request) -> Response:
    return Response("ok")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["BENCH_FLOOR_DATABASE_URL"], min_size=1, max_size=10)
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(
    routes=[
        Route("/", ready),
        Route("/grid-worker-page", grid_worker_page),
        Route("/officer-tasks", officer_tasks),
        Route("/committee-stats", committee_stats),
        Route("/city-page", city_page),
        Route("/nested-page", nested_page),
        Route("/export", export_page),
        Route("/report-dispute", report_dispute, methods=["POST"]),
    ],
    lifespan=lifespan,
)
