"""The article's city at full size: ``gateway seed --city`` (or a fraction of it, ``--scale``).

Tianjin as the article counts it: 13.6 million residents in households, 16 districts, about
21,000 grids and 4,300 police grids (grown by ``synthetic`` at its density), 589,000
volunteers; and, at rates a city of that size plausibly has, a private vehicle for about
one resident in five, a year's mediated disputes (one for every 200 residents, two parties
each, the complainant a registered resident), a camera for every ten grids and a day's
captures of a quarter of the vehicles, one capture in 500 reading a plate no vehicle has
(an alert raised in the camera's grid).

On PostgreSQL the rows go in by COPY with the big tables' secondary indexes built once at the
end, and their per-grid counts (``gateway.data.counts``) made afresh at the end rather than row by
row; on SQLite by plain inserts, for the small scales a laptop test uses.
"""

from __future__ import annotations

import random
from collections import Counter
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, select

from gateway.data import Databases, counting_paused
from resolvers.dispute.codes import dispute_code
from resolvers.dispute.tables import Dispute, DisputeParty
from resolvers.population.tables import Household, Resident
from resolvers.seed import synthetic
from resolvers.seed.writing import Row, copy_rows, indexes_deferred, max_id, reset_sequences, table_of
from resolvers.traffic.tables import Camera, Capture, PlateAlert, Vehicle
from resolvers.volunteer.tables import Volunteer, VolunteerTeam

CITY_RESIDENTS = 13_600_000
BATCH = 50_000
VOLUNTEER_EVERY = 23  # 13.6 M / 23 ≈ 589,000
VEHICLE_EVERY = 5
DISPUTE_EVERY = 200
CAPTURED_VEHICLE_EVERY = 4
GRIDS_PER_CAMERA = 10
UNREGISTERED_CAPTURE_EVERY = 500

# A plate: 津, a letter, five of these; O and I are never used on Chinese plates.
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_PLATE_CHARS = "0123456789" + _PLATE_LETTERS
_VEHICLES = (
    ("小型轿车", "大众"),
    ("小型轿车", "丰田"),
    ("小型轿车", "比亚迪"),
    ("小型越野客车", "哈弗"),
    ("小型轿车", "吉利"),
    ("轻型厢式货车", "江铃"),
    ("小型轿车", "本田"),
    ("小型轿车", "长安"),
)
_COLOURS = ("白色", "黑色", "银色", "灰色", "红色", "蓝色")
_SKILLS = ("巡逻防控", "矛盾调解", "反诈宣传", "治安信息", "邻里守望", "应急救援")
_DISPUTES = (
    ("neighbour", "楼道堆物纠纷", "楼道内堆放杂物影响通行,邻居多次沟通未果。"),
    ("noise", "噪音扰民", "夜间噪音影响楼上楼下休息。"),
    ("property_damage", "漏水纠纷", "楼上漏水浸泡楼下房屋,双方就赔偿意见不一。"),
    ("family", "家庭赡养纠纷", "子女就老人赡养费用分担发生争执。"),
    ("tenancy", "租赁押金纠纷", "租期届满,房东与租户就押金退还发生争执。"),
    ("other", "停车纠纷", "小区车位占用引发争执。"),
)
_DISPUTE_STATUSES = ("closed",) * 6 + ("followed_up", "agreed", "mediating", "accepted", "reported", "escalated")
_NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


async def seed_city(databases: Databases, scale: float = 1.0) -> dict[str, int]:
    """Write ``scale`` × the city after the demo data; returns rows written per table."""
    residents = max(1, round(CITY_RESIDENTS * scale))
    counts: Counter[str] = Counter()
    async with AsyncExitStack() as deferred:
        for domain, models in (
            ("population", (Household, Resident)),
            ("volunteer", (Volunteer,)),
            ("dispute", (Dispute, DisputeParty)),
            ("traffic", (Vehicle, Capture, PlateAlert)),
        ):
            session = await deferred.enter_async_context(databases.session(domain))
            await deferred.enter_async_context(indexes_deferred(session, [table_of(m) for m in models]))
            await deferred.enter_async_context(counting_paused(session, models))
        # The grids grow with the first residents; the companions need them, so they start after.
        companions: _Companions | None = None

        async def after_batch(batch: list[Row]) -> None:
            nonlocal companions
            if companions is None:
                companions = await _Companions.start(databases)
            counts.update(await companions.write(batch))

        counts.update(
            await synthetic.add_residents(databases, residents, batch=BATCH, write=copy_rows, after_batch=after_batch)
        )
        if companions is not None:
            counts.update(await companions.finish())
    return dict(counts)


class _Companions:
    """The rows that hang off residents, written batch by batch as the residents are."""

    def __init__(self, databases: Databases, places: list[synthetic.Place], next_ids: dict[str, int]) -> None:
        self.databases = databases
        self.place = {place.grid_id: place for place in places}
        self.next = next_ids
        self.rng = random.Random(f"city-{next_ids['vehicle']}")
        self.teams: dict[int, int] = {}
        self.cameras: list[tuple[int, int]] = []  # (camera id, its grid)
        self.taken_plates: set[str] = set()

    @classmethod
    async def start(cls, databases: Databases) -> _Companions:
        places = await synthetic.places_of(databases)
        ids: dict[str, int] = {}
        for domain, model in (
            ("volunteer", VolunteerTeam),
            ("volunteer", Volunteer),
            ("dispute", Dispute),
            ("dispute", DisputeParty),
            ("traffic", Vehicle),
            ("traffic", Camera),
            ("traffic", Capture),
            ("traffic", PlateAlert),
        ):
            async with databases.session(domain) as session:
                ids[model.__tablename__] = await max_id(session, table_of(model)) + 1
        companions = cls(databases, places, ids)
        async with databases.session("traffic") as session:
            companions.taken_plates = set((await session.scalars(select(Vehicle.plate))).all())
        await companions._teams_and_cameras(places)
        return companions

    def _take(self, table: str) -> int:
        pk = self.next[table]
        self.next[table] = pk + 1
        return pk

    async def _teams_and_cameras(self, places: list[synthetic.Place]) -> None:
        teams: list[Row] = []
        for district_id in sorted({place.district_id for place in places}):
            pk = self._take("volunteer_team")
            self.teams[district_id] = pk
            teams.append(
                {
                    "id": pk,
                    "name": f"平安志愿服务总队{pk}",
                    "brand": "平安志愿者",
                    "district_id": district_id,
                    "founded_on": date(2020, 1, 1),
                }
            )
        cameras: list[Row] = []
        for place in places[::GRIDS_PER_CAMERA]:
            pk = self._take("camera")
            self.cameras.append((pk, place.grid_id))
            cameras.append(
                {
                    "id": pk,
                    "code": f"SY-{pk:06d}",
                    "road": "城市道路",
                    "location": f"{place.address}路口",
                    "grid_id": place.grid_id,
                }
            )
        await self._write({"volunteer": [(table_of(VolunteerTeam), teams)], "traffic": [(table_of(Camera), cameras)]})

    async def write(self, residents: list[Row]) -> Counter[str]:
        volunteers: list[Row] = []
        vehicles: list[Row] = []
        disputes: list[Row] = []
        parties: list[Row] = []
        for person in residents:
            n = person["id"]
            if n % VOLUNTEER_EVERY == 0:
                volunteers.append(self._volunteer(person))
            if n % VEHICLE_EVERY == 0 and person["birth_date"] < date(2008, 1, 1):
                vehicles.append(self._vehicle(person))
            if n % DISPUTE_EVERY == 0:
                dispute = self._dispute(person)
                disputes.append(dispute)
                parties.extend(self._parties(dispute["id"], person))
        captures, alerts = self._captures(vehicles)
        return await self._write(
            {
                "volunteer": [(table_of(Volunteer), volunteers)],
                "dispute": [(table_of(Dispute), disputes), (table_of(DisputeParty), parties)],
                "traffic": [
                    (table_of(Vehicle), vehicles),
                    (table_of(Capture), captures),
                    (table_of(PlateAlert), alerts),
                ],
            }
        )

    async def finish(self) -> Counter[str]:
        tables: dict[str, list[type[Any]]] = {
            "volunteer": [VolunteerTeam, Volunteer],
            "dispute": [Dispute, DisputeParty],
            "traffic": [Vehicle, Camera, Capture, PlateAlert],
        }
        for domain, models in tables.items():
            async with self.databases.session(domain) as session:
                await reset_sequences(session, [table_of(m) for m in models])
                await session.commit()
        return Counter({"volunteer_team": len(self.teams), "camera": len(self.cameras)})

    async def _write(self, by_domain: dict[str, list[tuple[Table, list[Row]]]]) -> Counter[str]:
        written: Counter[str] = Counter()
        for domain, tables in by_domain.items():
            async with self.databases.session(domain) as session:
                for table, rows in tables:
                    await copy_rows(session, table, rows)
                    written[table.name] += len(rows)
                await session.commit()
        return written

    def _volunteer(self, person: Row) -> Row:
        place = self.place[person["grid_id"]]
        skills = ",".join(sorted(set(self.rng.sample(_SKILLS, self.rng.randint(1, 2)))))
        joined = date(2020, 1, 1) + timedelta(days=self.rng.randrange(2500))
        return {
            "id": self._take("volunteer"),
            "resident_id": person["id"],
            "team_id": self.teams[place.district_id],
            "grid_id": place.grid_id,
            "skills": skills,
            "status": "active",
            "joined_on": joined,
        }

    def _plate(self) -> str:
        while True:
            plate = "津" + self.rng.choice(_PLATE_LETTERS) + "".join(self.rng.choices(_PLATE_CHARS, k=5))
            if plate not in self.taken_plates:
                self.taken_plates.add(plate)
                return plate

    def _vehicle(self, owner: Row) -> Row:
        kind, brand = self.rng.choice(_VEHICLES)
        registered = date(2010, 1, 1) + timedelta(days=self.rng.randrange(5800))
        return {
            "id": self._take("vehicle"),
            "plate": self._plate(),
            "vehicle_type": kind,
            "colour": self.rng.choice(_COLOURS),
            "brand": brand,
            "owner_id": owner["id"],
            "grid_id": owner["grid_id"],
            "registered_on": registered,
        }

    def _captures(self, vehicles: list[Row]) -> tuple[list[Row], list[Row]]:
        captures: list[Row] = []
        alerts: list[Row] = []
        if not self.cameras:
            return captures, alerts
        for vehicle in vehicles[::CAPTURED_VEHICLE_EVERY]:
            camera, grid_id = self.rng.choice(self.cameras)
            at = _NOW - timedelta(seconds=self.rng.randrange(86_400))
            pk = self._take("capture")
            unregistered = pk % UNREGISTERED_CAPTURE_EVERY == 0
            captures.append(
                {
                    "id": pk,
                    "camera_id": camera,
                    "plate": self._plate() if unregistered else vehicle["plate"],
                    "observed_type": vehicle["vehicle_type"],
                    "observed_colour": vehicle["colour"],
                    "captured_at": at,
                    "vehicle_id": None if unregistered else vehicle["id"],
                }
            )
            if unregistered:
                alerts.append(
                    {
                        "id": self._take("plate_alert"),
                        "capture_id": pk,
                        "vehicle_id": None,
                        "grid_id": grid_id,
                        "kind": "unregistered",
                        "status": "raised",
                        "raised_at": at,
                        "dispatched_to_staff_id": None,
                        "intercepted_at": None,
                        "intercept_location": None,
                        "detail": "号牌未登记 / plate not registered",
                    }
                )
        return captures, alerts

    def _dispute(self, person: Row) -> Row:
        place = self.place[person["grid_id"]]
        category, title, description = self.rng.choice(_DISPUTES)
        status = self.rng.choice(_DISPUTE_STATUSES)
        reported = _NOW - timedelta(seconds=self.rng.randrange(365 * 86_400))
        pk = self._take("dispute")
        closed = reported + timedelta(days=self.rng.randint(3, 40)) if status == "closed" else None
        return {
            "id": pk,
            "code": dispute_code(reported.year, pk),
            "title": title,
            "category": category,
            "description": description,
            "grid_id": place.grid_id,
            "street_id": place.street_id,
            "reporter_staff_id": None,
            "status": status,
            "reported_at": reported,
            "closed_at": closed,
            "version": 1,
        }

    def _parties(self, dispute_id: int, complainant: Row) -> list[Row]:
        neighbour = complainant["name"][0] + self.rng.choice("先生女士")
        return [
            {
                "id": self._take("dispute_party"),
                "dispute_id": dispute_id,
                "resident_id": complainant["id"],
                "role": "complainant",
                # A link to the resident record, not a copy of its details.
                "name": None,
                "phone": None,
                "id_number": None,
            },
            {
                "id": self._take("dispute_party"),
                "dispute_id": dispute_id,
                "resident_id": None,
                "role": "respondent",
                "name": neighbour,
                "phone": None,
                "id_number": None,
            },
        ]
