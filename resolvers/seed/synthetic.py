"""A synthetic population at city scale: N residents in households, quickly and deterministically.

Residents are spread evenly over all grids. To keep the density near Tianjin's (13.6 million
people on about 21,000 grids, ~650 a grid) every 3,250 residents also bring one synthetic
community of five grids, with one police grid bound to those five (about the city's ratio of
4,325 police grids to 21,000 grids). Those grids go to the existing streets in turn, so the
demo principals' own areas keep their demo grids and simply gain their share of residents.

ID numbers never collide: resident id n is mapped one-to-one onto (birth date, sequence)
pairs by a multiplication modulo the size of that space, and synthetic sequences stay below
the demo's 900–999.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.data import Databases
from resolvers.grid.risk import CALM
from resolvers.grid.tables import Community, District, Grid, GridBinding, PoliceGrid, PoliceStation, Street
from resolvers.population import idnumber
from resolvers.population.tables import Household, Resident, household_number
from resolvers.seed.demo import (
    DEMO_SEQUENCE_BASE,
    DISTRICTS,
    MOBILE_PREFIXES,
    police_grid_code,
)
from resolvers.seed.writing import Row, Writer, insert_rows, max_id, reset_sequences, table_of

BATCH = 10_000
RESIDENTS_PER_GRID = 650
GRIDS_PER_COMMUNITY = 5

_FIRST_BIRTH = date(1930, 1, 1)
_BIRTH_DAYS = (date(2026, 1, 1) - _FIRST_BIRTH).days
_IDENTITIES = _BIRTH_DAYS * DEMO_SEQUENCE_BASE
# A prime that divides neither 2, 3, 5 nor 487, the prime factors of _IDENTITIES.
_STRIDE = 1_000_003

# The commonest surnames four times over, so that 王, 李, 张 … come up about as often as in life.
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗" * 4 + (
    "郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江"
    "尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
_MALE_CHARS = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林洋东亮建国志文海峰立新永成德振宏庆"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英华玲桂兰萍红燕梅琳雪婷颖慧倩晶莉欣怡佳琪悦蕾洁丹月玉凤珍淑雅琴"
_TIANJIN_REGIONS = [code for _, code, _ in DISTRICTS]
# Where floating residents come from: Hebei, Shandong, Henan, Shanxi, Heilongjiang, Anhui, Sichuan.
_OTHER_REGIONS = ("130102", "130203", "131002", "370102", "370203", "410105", "140105", "230103",
                  "340104", "510104")  # fmt: skip
# Foreigners' permanent residence ID numbers: 9, the issuing province (12), the nationality.
_FOREIGN_REGIONS = ("912410", "912392", "912840", "912643")
_ETHNICITIES = ["汉族"] * 190 + ["回族"] * 4 + ["满族"] * 3 + ["蒙古族", "朝鲜族", "土家族"]
_HOUSEHOLD_SIZES = (1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4)  # mean ≈ 2.5
_COMMUNITY_STEMS = ("春华", "秀水", "康宁", "广源", "福兴", "丽景", "金海", "嘉园", "瑞景", "和畅",
                    "安居", "锦绣", "阳光", "翠园", "天骄", "映湖", "紫金", "兴业", "新河", "柳荫")  # fmt: skip
_COMMUNITY_SUFFIXES = ("里", "园", "苑", "家园", "花园", "新村")
_NUMERALS = "〇一二三四五六七八九十"
_REGISTERED_FROM = datetime(2026, 1, 1, tzinfo=UTC)
_REGISTRATION_SECONDS = 90 * 24 * 3600

_RESIDENT = table_of(Resident)
_HOUSEHOLD = table_of(Household)


def identity(n: int) -> tuple[date, int]:
    """The birth date and three-digit sequence of synthetic resident n, unique for every n."""
    if not 0 < n < _IDENTITIES:
        raise ValueError(f"resident id {n} is outside the {_IDENTITIES} synthetic ID numbers")
    k = n * _STRIDE % _IDENTITIES
    return _FIRST_BIRTH + timedelta(days=k // DEMO_SEQUENCE_BASE), k % DEMO_SEQUENCE_BASE


@dataclass(frozen=True)
class Place:
    grid_id: int
    address: str  # district, street and community names
    region: str  # the district's code
    street_id: int
    district_id: int


async def add_residents(
    databases: Databases,
    count: int,
    *,
    batch: int = BATCH,
    write: Writer = insert_rows,
    after_batch: Callable[[list[Row]], Awaitable[None]] | None = None,
) -> dict[str, int]:
    """Write ``count`` residents in households; ``after_batch`` sees each batch once committed."""
    counts = await grow_grids(databases, count // (RESIDENTS_PER_GRID * GRIDS_PER_COMMUNITY))
    places = await places_of(databases)
    if not places:
        raise ValueError("synthetic residents need grids: write the demo data first")
    async with databases.session("population") as session:
        people = People(
            places,
            next_resident=await max_id(session, _RESIDENT) + 1,
            next_household=await max_id(session, _HOUSEHOLD) + 1,
        )
        households = 0
        for size in _batches(count, batch):
            household_rows, resident_rows = people.batch(size)
            await write(session, _HOUSEHOLD, household_rows)
            await write(session, _RESIDENT, resident_rows)
            await session.commit()
            households += len(household_rows)
            if after_batch is not None:
                await after_batch(resident_rows)
        await reset_sequences(session, [_HOUSEHOLD, _RESIDENT])
        await session.commit()
    return {**counts, "household": households, "resident": count}


def _batches(count: int, batch: int) -> list[int]:
    return [min(batch, count - start) for start in range(0, count, batch)]


class People:
    """Makes households and their residents, in order of id, from one seeded generator."""

    def __init__(self, places: list[Place], next_resident: int, next_household: int) -> None:
        self.places = places
        self.next_resident = next_resident
        self.next_household = next_household
        # Seeded by the first id, so a second run adds different but equally repeatable people.
        self.rng = random.Random(f"synthetic-residents-{next_resident}")

    def batch(self, size: int) -> tuple[list[Row], list[Row]]:
        households: list[Row] = []
        residents: list[Row] = []
        while len(residents) < size:
            members = min(self.rng.choice(_HOUSEHOLD_SIZES), size - len(residents))
            household, people = self._household(members)
            households.append(household)
            residents.extend(people)
        return households, residents

    def _household(self, members: int) -> tuple[Row, list[Row]]:
        rng = self.rng
        place = self.places[rng.randrange(len(self.places))]
        building = f"{place.address}{rng.randint(1, 40)}号楼"
        address = f"{building}{rng.randint(1, 6)}门{rng.randint(1, 18)}{rng.randint(1, 4):02d}"
        kind, region = self._origin(place)
        surname = rng.choice(_SURNAMES)
        household_id = self.next_household
        self.next_household += 1
        people = []
        for position in range(members):
            family_name = rng.choice(_SURNAMES) if position == 1 else surname
            people.append(self._resident(household_id, place, address, building, kind, region, family_name))
        head = min(people, key=lambda person: person["birth_date"])
        household = {
            "id": household_id,
            "number": household_number(household_id),
            "address": address,
            "grid_id": place.grid_id,
            "head_resident_id": head["id"],
        }
        return household, people

    def _origin(self, place: Place) -> tuple[str, str]:
        draw = self.rng.random()
        if draw < 0.01:
            return "foreign", self.rng.choice(_FOREIGN_REGIONS)
        if draw < 0.16:
            return "floating", self.rng.choice(_OTHER_REGIONS)
        if draw < 0.26:
            return "registered", self.rng.choice(_TIANJIN_REGIONS)
        return "registered", place.region

    def _resident(
        self, household_id: int, place: Place, address: str, building: str, kind: str, region: str, surname: str
    ) -> Row:
        rng = self.rng
        resident_id = self.next_resident
        self.next_resident += 1
        birth, sequence = identity(resident_id)
        male = sequence % 2 == 1
        chars = _MALE_CHARS if male else _FEMALE_CHARS
        given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
        flag = rng.random()
        return {
            "id": resident_id,
            "id_number": idnumber.make(region, birth, sequence),
            "name": surname + given,
            "gender": "male" if male else "female",
            "birth_date": birth,
            "ethnicity": "外籍" if kind == "foreign" else rng.choice(_ETHNICITIES),
            "phone": f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}" if rng.random() < 0.9 else None,
            "address": address,
            "building": building,
            "household_id": household_id,
            "grid_id": place.grid_id,
            "registration_kind": kind,
            "status": "pending_review" if rng.random() < 0.005 else "active",
            "watch_flag": flag < 0.002,
            "criminal_flag": flag < 0.001,
            "registered_at": _REGISTERED_FROM + timedelta(seconds=rng.randrange(_REGISTRATION_SECONDS)),
            "version": 1,
        }


# ---------------------------------------------------------------------------- grids


async def places_of(databases: Databases) -> list[Place]:
    grid, community, street, district = (table_of(m) for m in (Grid, Community, Street, District))
    query = (
        select(grid.c.id, district.c.name, street.c.name, community.c.name, district.c.code, street.c.id, district.c.id)
        .join(community, community.c.id == grid.c.community_id)
        .join(street, street.c.id == community.c.street_id)
        .join(district, district.c.id == street.c.district_id)
        .order_by(grid.c.id)
    )
    async with databases.session("grid") as session:
        rows = (await session.execute(query)).all()
    return [
        Place(grid_id, f"{d}{s}{c}", code, street_id, district_id)
        for grid_id, d, s, c, code, street_id, district_id in rows
    ]


@dataclass
class _StreetSlot:
    id: int
    code: str
    district_code: str
    station_id: int
    last_number: int  # the largest community number used in the street so far


async def grow_grids(databases: Databases, communities: int) -> dict[str, int]:
    if communities <= 0:
        return {}
    tables = [table_of(m) for m in (Community, Grid, PoliceGrid, GridBinding)]
    async with databases.session("grid") as session:
        slots = await _street_slots(session)
        ids = [await max_id(session, table) + 1 for table in tables]
        rows = _grid_rows(slots, communities, *ids)
        for table, table_rows in zip(tables, rows, strict=True):
            await insert_rows(session, table, table_rows)
        await reset_sequences(session, tables)
        await session.commit()
    return {table.name: len(table_rows) for table, table_rows in zip(tables, rows, strict=True)}


async def _street_slots(session: AsyncSession) -> list[_StreetSlot]:
    street, district, community, station = (table_of(m) for m in (Street, District, Community, PoliceStation))
    streets = (
        await session.execute(
            select(street.c.id, street.c.code, district.c.id, district.c.code)
            .join(district, district.c.id == street.c.district_id)
            .order_by(street.c.id)
        )
    ).all()
    stations: dict[int, int] = {}
    for station_id, district_id in (
        await session.execute(select(station.c.id, station.c.district_id).order_by(station.c.id))
    ).all():
        stations.setdefault(district_id, station_id)
    last: dict[int, int] = {}
    for street_id, code in (await session.execute(select(community.c.street_id, community.c.code))).all():
        if code[-3:].isdigit():
            last[street_id] = max(last.get(street_id, 0), int(code[-3:]))
    fallback = min(stations.values())
    return [
        _StreetSlot(street_id, code, district_code, stations.get(district_id, fallback), last.get(street_id, 0))
        for street_id, code, district_id, district_code in streets
    ]


def _grid_rows(
    slots: list[_StreetSlot],
    communities: int,
    community_id: int,
    grid_id: int,
    police_grid_id: int,
    binding_id: int,
) -> tuple[list[Row], list[Row], list[Row], list[Row]]:
    rng = random.Random(f"synthetic-grids-{community_id}")
    community_rows: list[Row] = []
    grid_rows: list[Row] = []
    police_rows: list[Row] = []
    binding_rows: list[Row] = []
    for offset in range(communities):
        slot = slots[(community_id + offset) % len(slots)]
        slot.last_number += 1
        if slot.last_number > 999:
            raise ValueError(f"street {slot.code} has no community numbers left")
        code = f"{slot.code}{slot.last_number:03d}"
        name = f"{rng.choice(_COMMUNITY_STEMS)}{rng.choice(_COMMUNITY_SUFFIXES)}社区"
        this_community = community_id + offset
        this_police_grid = police_grid_id + offset
        community_rows.append({"id": this_community, "street_id": slot.id, "code": code, "name": name})
        police_rows.append(
            {
                "id": this_police_grid,
                "station_id": slot.station_id,
                "code": police_grid_code(slot.district_code, this_police_grid),
                "name": f"{name}警格",
            }
        )
        for number in range(1, GRIDS_PER_COMMUNITY + 1):
            grid_rows.append(
                {
                    "id": grid_id,
                    "community_id": this_community,
                    "code": f"{code}-{number:02d}",
                    "name": f"{name}第{_NUMERALS[number]}网格",
                    "risk_colour": CALM,  # until the seed recomputes every grid by the rule
                }
            )
            binding_rows.append({"id": binding_id, "police_grid_id": this_police_grid, "grid_id": grid_id})
            grid_id += 1
            binding_id += 1
    return community_rows, grid_rows, police_rows, binding_rows
