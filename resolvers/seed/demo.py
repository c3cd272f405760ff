"""The demo data set: the article's stories on a small map of Tianjin, keyed by explicit ids.

The demo principals work in one place, 津南区八里台镇 (street 16):

- police.demo (陈立伟, staff 2) holds police grid 7 (品湖苑警格), bound to grids 15 and 16
  of 品湖苑社区 and grid 18 of 丽湖苑社区;
- committee.demo (孙丽娟, staff 3) serves 品湖苑社区 (community 8): grids 15, 16 (police.demo's)
  and 17 (police grid 8, another officer's);
- gridworker.demo (刘婷, staff 4) works grid 15, where the burst pipe was settled for 9,000 yuan;
- judicial.demo is 八里台镇司法所 (street 16);
- rental.demo is the 慧治网约房 platform, which operates the demo's rentals and checks guests in at them.

The other stories sit where the article puts them (红桥和苑, 南开鼓楼, 河西, 滨海新区 …) so
that every demo principal has "other areas" it must not see.

Place codes: the 16 district codes are the real GB/T 2260 ones; street, community and grid
codes follow the same shape but are illustrative. Times are written in Beijing time and
stored as UTC; birth dates, team founding dates and vehicle registrations lie before 2026,
every other date and timestamp lies in 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from sqlalchemy import Table

from resolvers.dispute.codes import dispute_code
from resolvers.dispute.tables import (
    Agreement,
    Dispute,
    DisputeParty,
    FollowUp,
    MediationSession,
    Mediator,
    SessionMediator,
)
from resolvers.grid.risk import CALM
from resolvers.grid.tables import (
    Agency,
    Community,
    District,
    Grid,
    GridBinding,
    PoliceGrid,
    PoliceStation,
    Staff,
    Street,
)
from resolvers.population import idnumber
from resolvers.population.tables import (
    DogLicence,
    GuestCheckIn,
    Household,
    RentalProperty,
    Resident,
    TemporaryStay,
    household_number,
)
from resolvers.seed.writing import Row, table_of
from resolvers.traffic.tables import Camera, Capture, PlateAlert, Vehicle, Violation
from resolvers.volunteer.tables import Patrol, PatrolMember, Volunteer, VolunteerTeam

DEMO_PRINCIPALS: dict[str, str] = {
    "city_analyst": "analyst.city",
    "community_police": "police.demo",
    "committee_staff": "committee.demo",
    "grid_worker": "gridworker.demo",
    "judicial_office": "judicial.demo",
    "traffic_camera": "camera.demo",
    "auditor": "auditor.city",
    "rental_platform": "rental.demo",
}

BEIJING = timezone(timedelta(hours=8))


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment of 2026 given in Beijing time, as an aware UTC datetime."""
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


def on(month: int, day: int) -> date:
    return date(2026, month, day)


# ---------------------------------------------------------------------------- places

# (id, GB/T 2260 code, name)
DISTRICTS: list[tuple[int, str, str]] = [
    (1, "120101", "和平区"),
    (2, "120102", "河东区"),
    (3, "120103", "河西区"),
    (4, "120104", "南开区"),
    (5, "120105", "河北区"),
    (6, "120106", "红桥区"),
    (7, "120110", "东丽区"),
    (8, "120111", "西青区"),
    (9, "120112", "津南区"),
    (10, "120113", "北辰区"),
    (11, "120114", "武清区"),
    (12, "120115", "宝坻区"),
    (13, "120116", "滨海新区"),
    (14, "120117", "宁河区"),
    (15, "120118", "静海区"),
    (16, "120119", "蓟州区"),
]

# (id, district_id, code, name)
STREETS: list[tuple[int, int, str, str]] = [
    (1, 1, "120101001", "劝业场街道"),
    (2, 1, "120101002", "小白楼街道"),
    (3, 2, "120102001", "大王庄街道"),
    (4, 2, "120102002", "大直沽街道"),
    (5, 3, "120103003", "桃园街道"),
    (6, 3, "120103007", "友谊路街道"),
    (7, 4, "120104001", "长虹街道"),
    (8, 4, "120104002", "鼓楼街道"),
    (9, 5, "120105001", "光复道街道"),
    (10, 6, "120106004", "西沽街道"),
    (11, 6, "120106010", "和苑街道"),
    (12, 7, "120110001", "张贵庄街道"),
    (13, 8, "120111100", "杨柳青镇"),
    (14, 9, "120112100", "咸水沽镇"),
    (15, 9, "120112103", "双港镇"),
    (16, 9, "120112107", "八里台镇"),
    (17, 10, "120113001", "果园新村街道"),
    (18, 10, "120113101", "双街镇"),
    (19, 11, "120114001", "杨村街道"),
    (20, 12, "120115001", "海滨街道"),
    (21, 12, "120115002", "宝平街道"),
    (22, 13, "120116001", "泰达街道"),
    (23, 13, "120116006", "新港街道"),
    (24, 14, "120117001", "芦台街道"),
    (25, 15, "120118100", "静海镇"),
    (26, 16, "120119100", "渔阳镇"),
]

# (id, street_id, code, name)
COMMUNITIES: list[tuple[int, int, str, str]] = [
    (1, 2, "120101002001", "开封道社区"),
    (2, 1, "120101001001", "滨江道社区"),
    (3, 3, "120102001001", "十四经路社区"),
    (4, 6, "120103007001", "友谊北社区"),
    (5, 8, "120104002001", "鼓楼东社区"),
    (6, 11, "120106010001", "和苑东里社区"),
    (7, 11, "120106010002", "和苑西里社区"),
    (8, 16, "120112107001", "品湖苑社区"),
    (9, 16, "120112107002", "丽湖苑社区"),
    (10, 14, "120112100001", "新城家园社区"),
    (11, 17, "120113001001", "果园新村社区"),
    (12, 20, "120115001001", "南关社区"),
    (13, 23, "120116006001", "福瑞社区"),
]

# (id, community_id, number within the community); the name and code follow. The risk colour is
# not given: the seed computes it by the rule (``resolvers.grid.risk``) from the rows it writes.
GRIDS: list[tuple[int, int, int]] = [
    (1, 1, 1),
    (2, 1, 2),
    (3, 2, 1),
    (4, 2, 2),
    (5, 3, 1),
    (6, 3, 2),
    (7, 4, 1),
    (8, 4, 2),
    (9, 4, 3),
    (10, 5, 1),
    (11, 5, 2),
    (12, 6, 1),
    (13, 6, 2),
    (14, 7, 1),
    (15, 8, 1),
    (16, 8, 2),
    (17, 8, 3),
    (18, 9, 1),
    (19, 9, 2),
    (20, 10, 1),
    (21, 10, 2),
    (22, 11, 1),
    (23, 11, 2),
    (24, 12, 1),
    (25, 12, 2),
    (26, 13, 1),
    (27, 13, 2),
]

# (id, district_id, name)
STATIONS: list[tuple[int, int, str]] = [
    (1, 1, "公安和平分局小白楼派出所"),
    (2, 1, "公安和平分局劝业场派出所"),
    (3, 2, "公安河东分局大王庄派出所"),
    (4, 3, "公安河西分局友谊路派出所"),
    (5, 4, "公安南开分局鼓楼派出所"),
    (6, 6, "公安红桥分局和苑派出所"),
    (7, 9, "公安津南分局八里台派出所"),
    (8, 9, "公安津南分局咸水沽派出所"),
    (9, 10, "公安北辰分局果园新村派出所"),
    (10, 12, "公安宝坻分局海滨派出所"),
    (11, 13, "滨海新区公安局南海路派出所"),
    (12, 5, "公安河北分局光复道派出所"),
    (13, 7, "公安东丽分局张贵庄派出所"),
    (14, 8, "公安西青分局杨柳青派出所"),
    (15, 11, "公安武清分局杨村派出所"),
    (16, 14, "公安宁河分局芦台派出所"),
    (17, 15, "公安静海分局静海派出所"),
    (18, 16, "公安蓟州分局渔阳派出所"),
]

# (id, station_id, name, bound grid ids): every demo grid is bound exactly once.
POLICE_GRIDS: list[tuple[int, int, str, tuple[int, ...]]] = [
    (1, 1, "开封道警格", (1, 2)),
    (2, 2, "滨江道警格", (3, 4)),
    (3, 3, "十四经路警格", (5, 6)),
    (4, 4, "友谊北警格", (7, 8, 9)),
    (5, 5, "鼓楼东警格", (10, 11)),
    (6, 6, "和苑警格", (12, 13, 14)),
    (7, 7, "品湖苑警格", (15, 16, 18)),
    (8, 7, "丽湖苑警格", (17, 19)),
    (9, 8, "新城家园警格", (20, 21)),
    (10, 9, "果园新村警格", (22, 23)),
    (11, 10, "南关警格", (24, 25)),
    (12, 11, "福瑞警格", (26, 27)),
]

_NUMERALS = "〇一二三四五六七八九十"

_DISTRICT = {row[0]: row for row in DISTRICTS}
_STREET = {row[0]: row for row in STREETS}
_COMMUNITY = {row[0]: row for row in COMMUNITIES}
_GRID = {row[0]: row for row in GRIDS}
_STATION = {row[0]: row for row in STATIONS}


def grid_code(grid_id: int) -> str:
    _, community_id, number = _GRID[grid_id]
    return f"{_COMMUNITY[community_id][2]}-{number:02d}"


def grid_name(grid_id: int) -> str:
    _, community_id, number = _GRID[grid_id]
    return f"{_COMMUNITY[community_id][3]}第{_NUMERALS[number]}网格"


def police_grid_code(district_code: str, police_grid_id: int) -> str:
    return f"JG{district_code}-{police_grid_id:06d}"


def street_of_grid(grid_id: int) -> int:
    return _COMMUNITY[_GRID[grid_id][1]][1]


def district_of_grid(grid_id: int) -> tuple[int, str, str]:
    return _DISTRICT[_STREET[street_of_grid(grid_id)][1]]


def place_of_grid(grid_id: int) -> str:
    """The address prefix of a grid: district, street and community names."""
    community = _COMMUNITY[_GRID[grid_id][1]]
    street = _STREET[community[1]]
    return f"{_DISTRICT[street[1]][2]}{street[3]}{community[3]}"


def grid_rows() -> list[tuple[Table, list[Row]]]:
    return [
        (table_of(District), [{"id": i, "code": code, "name": name} for i, code, name in DISTRICTS]),
        (
            table_of(Street),
            [{"id": i, "district_id": d, "code": code, "name": name} for i, d, code, name in STREETS],
        ),
        (
            table_of(Community),
            [{"id": i, "street_id": s, "code": code, "name": name} for i, s, code, name in COMMUNITIES],
        ),
        (
            table_of(Grid),
            [
                {"id": i, "community_id": c, "code": grid_code(i), "name": grid_name(i), "risk_colour": CALM}
                for i, c, _ in GRIDS
            ],
        ),
        (table_of(PoliceStation), [{"id": i, "district_id": d, "name": name} for i, d, name in STATIONS]),
        (table_of(PoliceGrid), _police_grid_rows()),
        (table_of(GridBinding), _binding_rows()),
        (table_of(Staff), _staff_rows()),
        (table_of(Agency), _agency_rows()),
    ]


def _police_grid_rows() -> list[Row]:
    rows = []
    for i, station_id, name, _ in POLICE_GRIDS:
        district_code = _DISTRICT[_STATION[station_id][1]][1]
        code = police_grid_code(district_code, i)
        rows.append({"id": i, "station_id": station_id, "code": code, "name": name})
    return rows


def _binding_rows() -> list[Row]:
    pairs = [(pg, grid) for pg, _, _, grids in POLICE_GRIDS for grid in grids]
    return [{"id": n, "police_grid_id": pg, "grid_id": grid} for n, (pg, grid) in enumerate(pairs, start=1)]


# ---------------------------------------------------------------------------- principals


class Person(NamedTuple):
    """A staff principal; at most one of grid, community and police grid is set."""

    id: int
    principal_id: str
    name: str
    role: str
    title: str
    agency: str
    phone: str
    grid_id: int | None = None
    community_id: int | None = None
    police_grid_id: int | None = None


# fmt: off
STAFF: list[Person] = [
    Person(1, "analyst.city", "韩立新", "city_analyst", "数据分析员", "市公安局基础管控中心", "13920031101"),
    Person(2, "police.demo", "陈立伟", "community_police", "社区民警", "公安津南分局八里台派出所",
           "13802215566", police_grid_id=7),
    Person(3, "committee.demo", "孙丽娟", "committee_staff", "居委会主任", "八里台镇品湖苑社区居民委员会",
           "15822107788", community_id=8),
    Person(4, "gridworker.demo", "刘婷", "grid_worker", "专职网格员", "八里台镇品湖苑社区",
           "18622153412", grid_id=15),
    Person(5, "auditor.city", "郑海燕", "auditor", "数据安全审计员", "市公安局数据安全管理办公室",
           "13752006630"),
    Person(6, "police.heyuan", "周建军", "community_police", "社区民警", "公安红桥分局和苑派出所",
           "13612087745", police_grid_id=6),
    Person(7, "police.gulou", "马世文", "community_police", "社区民警", "公安南开分局鼓楼派出所",
           "13920554871", police_grid_id=5),
    Person(8, "police.nanhailu", "蔡群星", "community_police", "社区民警", "滨海新区公安局南海路派出所",
           "15900273318", police_grid_id=12),
    Person(9, "police.lihu", "王振", "community_police", "社区民警", "公安津南分局八里台派出所",
           "18920368821", police_grid_id=8),
    Person(10, "gridworker.pinhu3", "赵敏", "grid_worker", "专职网格员", "八里台镇品湖苑社区",
           "15620117093", grid_id=17),
    Person(11, "gridworker.gulou", "黄晓雪", "grid_worker", "专职网格员", "鼓楼街道鼓楼东社区",
           "13512298460", grid_id=10),
    Person(12, "gridworker.heyuan", "吴凤霞", "grid_worker", "专职网格员", "和苑街道和苑东里社区",
           "18602261957", grid_id=12),
    Person(13, "committee.heyuan", "杨桂英", "committee_staff", "居委会副主任", "和苑街道和苑东里社区居民委员会",
           "13011386624", community_id=6),
    Person(14, "gridworker.furui", "徐琳", "grid_worker", "专职网格员", "新港街道福瑞社区",
           "15122640938", grid_id=26),
    Person(15, "committee.lihu", "冯建国", "committee_staff", "居委会主任", "八里台镇丽湖苑社区居民委员会",
           "13302119845", community_id=9),
    Person(16, "police.youyilu", "李文博", "community_police", "社区民警", "公安河西分局友谊路派出所",
           "18522478806", police_grid_id=4),
    Person(17, "gridworker.lihu", "袁媛", "grid_worker", "专职网格员", "八里台镇丽湖苑社区",
           "15302235179", grid_id=18),
]
# fmt: on

# (id, principal_id, name, role, street_id, scopes)
# fmt: off
AGENCIES: list[tuple[int, str, str, str, int | None, str]] = [
    (1, "judicial.demo", "津南区八里台镇司法所", "judicial_office", 16, "dispute:read,dispute:mediate"),
    (2, "camera.demo", "智慧公安交管系统(津南交警支队咸水沽大队)", "traffic_camera", None, "traffic:ingest"),
    (3, "judicial.gulou", "南开区鼓楼街道司法所", "judicial_office", 8, "dispute:read,dispute:mediate"),
    (4, "rental.demo", "慧治网约房平台", "rental_platform", None, "rental:checkin"),
]
# fmt: on


def _staff_rows() -> list[Row]:
    return [{**person._asdict(), "active": True} for person in STAFF]


def _agency_rows() -> list[Row]:
    return [
        {"id": i, "principal_id": p, "name": name, "role": role, "street_id": street, "scopes": scopes, "active": True}
        for i, p, name, role, street, scopes in AGENCIES
    ]


# ---------------------------------------------------------------------------- population

# (id, grid_id, building, flat): the address is the grid's place + building + flat.
HOUSEHOLDS: list[tuple[int, int, str, str]] = [
    (1, 15, "3号楼", "2门601"),  # 张先生, whose burst pipe flooded the flat below
    (2, 15, "3号楼", "2门501"),  # 刘先生, below
    (3, 15, "5号楼", "1门302"),
    (4, 15, "6号楼", "3门101"),
    (5, 16, "12号楼", "1门402"),
    (6, 16, "12号楼", "2门201"),
    (7, 16, "15号楼", "1门502"),
    (8, 17, "21号楼", "1门301"),
    (9, 17, "23号楼", "2门102"),
    (10, 18, "2号楼", "1门201"),
    (11, 18, "2号楼", "1门301"),
    (12, 18, "4号楼", "2门502"),
    (13, 19, "9号楼", "1门101"),
    (14, 19, "9号楼", "3门1102"),
    (15, 12, "7号楼", "3门402"),  # 李大爷, the noise complaint
    (16, 12, "7号楼", "3门502"),  # the neighbours upstairs
    (17, 13, "11号楼", "1门201"),  # 张大爷, registration to review
    (18, 13, "11号楼", "2门301"),  # 小刘, the new puppy
    (19, 14, "3号楼", "1门602"),
    (20, 10, "5号楼", "2门301"),  # 王大爷, stairwell clutter and door curtain
    (21, 10, "5号楼", "2门302"),  # 张大爷 across the landing
    (22, 11, "9号楼", "1门101"),
    (23, 7, "6号楼", "1门1203"),  # 李大姨, the 慧治网约房 landlord
    (24, 8, "8号楼", "2门402"),
    (25, 9, "12号楼", "1门501"),
    (26, 1, "3号楼", "2门501"),
    (27, 2, "7号楼", "1门302"),
    (28, 3, "2号楼", "4门201"),
    (29, 5, "10号楼", "2门401"),
    (30, 26, "8号楼", "1门302"),  # 王大爷, anti-fraud outreach
    (31, 26, "11号楼", "2门601"),
    (32, 27, "15号楼", "1门102"),
    (33, 22, "二区4号楼", "3门301"),
    (34, 23, "五区6号楼", "1门502"),
    (35, 24, "2号楼", "1门301"),  # 孙大爷 in 宝坻
    (36, 20, "16号楼", "2门702"),
]


class Inhabitant(NamedTuple):
    """A demo resident; the first one listed in a household is its head."""

    id: int
    household_id: int
    name: str
    gender: str
    birth_date: date
    kind: str = "registered"
    # The region code inside the ID number; None means the district of the home grid.
    region: str | None = None
    status: str = "active"
    ethnicity: str = "汉族"
    watch: bool = False
    criminal: bool = False


RESIDENTS: list[Inhabitant] = [
    Inhabitant(1, 1, "张志远", "male", date(1978, 5, 14)),
    Inhabitant(2, 1, "李慧", "female", date(1980, 9, 3)),
    Inhabitant(3, 1, "张子轩", "male", date(2008, 11, 21)),
    Inhabitant(4, 2, "刘建华", "male", date(1965, 2, 8)),
    Inhabitant(5, 2, "王秀梅", "female", date(1967, 7, 19)),
    Inhabitant(6, 3, "孙宝林", "male", date(1952, 4, 30)),
    Inhabitant(7, 4, "马晓东", "male", date(1995, 3, 2), "floating", "130102"),
    Inhabitant(8, 5, "周桂兰", "female", date(1958, 12, 11)),
    Inhabitant(9, 6, "何俊", "male", date(1998, 6, 25), "floating", "410105"),
    Inhabitant(10, 7, "钱志刚", "male", date(1985, 10, 10)),
    Inhabitant(11, 7, "林雪", "female", date(1990, 1, 17), region="120103", status="pending_review"),
    Inhabitant(12, 8, "高建军", "male", date(1972, 8, 8)),
    Inhabitant(13, 8, "郭丽", "female", date(1974, 3, 15)),
    Inhabitant(14, 8, "冯秀珍", "female", date(1948, 6, 1)),
    Inhabitant(15, 9, "韩冬", "male", date(1990, 12, 30), watch=True),
    Inhabitant(16, 10, "张国强", "male", date(1983, 4, 22)),
    Inhabitant(17, 10, "陈燕", "female", date(1986, 9, 9)),
    Inhabitant(18, 11, "吕大海", "male", date(1960, 11, 5)),
    Inhabitant(19, 12, "邵磊", "male", date(1988, 2, 14)),
    Inhabitant(20, 13, "谢红", "female", date(1979, 7, 7)),
    Inhabitant(21, 14, "金敏俊", "male", date(1987, 5, 5), "foreign", "912410", ethnicity="外籍"),
    Inhabitant(22, 15, "李德顺", "male", date(1952, 1, 26)),
    Inhabitant(23, 15, "田玉兰", "female", date(1954, 10, 2), ethnicity="回族"),
    Inhabitant(24, 16, "宋浩", "male", date(1994, 8, 18)),
    Inhabitant(25, 16, "唐婧", "female", date(1995, 12, 4)),
    Inhabitant(26, 17, "张福来", "male", date(1949, 9, 29), status="pending_review"),
    Inhabitant(27, 18, "刘洋", "male", date(1996, 4, 12)),
    Inhabitant(28, 19, "曹秀英", "female", date(1963, 5, 20)),
    Inhabitant(29, 20, "王金贵", "male", date(1951, 3, 11)),
    Inhabitant(30, 20, "白淑华", "female", date(1953, 7, 28)),
    Inhabitant(31, 21, "张振华", "male", date(1950, 10, 16)),
    Inhabitant(32, 21, "周玉珍", "female", date(1952, 2, 23)),
    Inhabitant(33, 22, "蒋丽", "female", date(1982, 6, 6)),
    Inhabitant(34, 23, "李秀兰", "female", date(1962, 11, 30)),
    Inhabitant(35, 24, "潘立", "male", date(1991, 9, 14), "floating", "230103"),
    Inhabitant(36, 25, "贺敏", "female", date(1975, 4, 8), ethnicity="满族"),
    Inhabitant(37, 26, "马红", "female", date(1970, 8, 27)),
    Inhabitant(38, 26, "丁伟", "male", date(1968, 12, 19)),
    Inhabitant(39, 27, "罗振声", "male", date(1957, 3, 3)),
    Inhabitant(40, 28, "曾凡", "male", date(1980, 1, 9)),
    Inhabitant(41, 28, "汪洁", "female", date(1982, 5, 31)),
    Inhabitant(42, 29, "侯建", "male", date(1977, 7, 17)),
    Inhabitant(43, 30, "王长贵", "male", date(1948, 8, 15)),
    Inhabitant(44, 30, "吕桂芝", "female", date(1950, 4, 4)),
    Inhabitant(45, 31, "邓晓峰", "male", date(1985, 6, 18)),
    Inhabitant(46, 32, "霍建", "male", date(1992, 10, 24), watch=True, criminal=True),
    Inhabitant(47, 33, "尹国栋", "male", date(1975, 2, 2)),
    Inhabitant(48, 34, "范丽", "female", date(1983, 11, 11)),
    Inhabitant(49, 35, "孙长河", "male", date(1946, 1, 20)),
    Inhabitant(50, 36, "石磊", "male", date(1980, 9, 27)),
    Inhabitant(51, 6, "杜鹃", "female", date(1999, 3, 8), "floating", "410102"),
]

# Demo ID numbers use sequences 900–999; synthetic residents stay below 900, so they never meet.
DEMO_SEQUENCE_BASE = 900

MOBILE_PREFIXES = ("138", "139", "135", "136", "137", "150", "151", "152", "158", "159", "186", "187",
                    "188", "189", "130", "131", "132", "155", "156", "185")  # fmt: skip


def resident_phone(resident_id: int) -> str:
    prefix = MOBILE_PREFIXES[resident_id % len(MOBILE_PREFIXES)]
    return f"{prefix}{(resident_id * 48271 + 20260312) % 10**8:08d}"


def resident_id_number(person: Inhabitant, grid_id: int) -> str:
    region = person.region or district_of_grid(grid_id)[1]
    sequence = DEMO_SEQUENCE_BASE + 2 * ((person.id - 1) % 50) + (1 if person.gender == "male" else 0)
    return idnumber.make(region, person.birth_date, sequence)


_HOUSEHOLD = {row[0]: row for row in HOUSEHOLDS}


@cache
def resident_rows() -> tuple[Row, ...]:
    return tuple(_resident_row(person) for person in RESIDENTS)


def _resident_row(person: Inhabitant) -> Row:
    _, grid_id, building, flat = _HOUSEHOLD[person.household_id]
    place = place_of_grid(grid_id)
    pending = person.status == "pending_review"
    return {
        "id": person.id,
        "id_number": resident_id_number(person, grid_id),
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "ethnicity": person.ethnicity,
        "phone": resident_phone(person.id),
        "address": f"{place}{building}{flat}",
        "building": f"{place}{building}",
        "household_id": person.household_id,
        "grid_id": grid_id,
        "registration_kind": person.kind,
        "status": person.status,
        "watch_flag": person.watch,
        "criminal_flag": person.criminal,
        "registered_at": at(3, 13, 10) if pending else at(1, 1 + person.id % 28),
        "version": 1,
    }


@cache
def _residents_by_id() -> dict[int, Row]:
    return {row["id"]: row for row in resident_rows()}


def resident(resident_id: int) -> Row:
    return _residents_by_id()[resident_id]


def _household_rows() -> list[Row]:
    heads: dict[int, int] = {}
    for person in RESIDENTS:
        heads.setdefault(person.household_id, person.id)
    return [
        {
            "id": i,
            "number": household_number(i),
            "address": f"{place_of_grid(grid)}{building}{flat}",
            "grid_id": grid,
            "head_resident_id": heads[i],
        }
        for i, grid, building, flat in HOUSEHOLDS
    ]


# (id, resident_id, reason, start, end)
TEMPORARY_STAYS: list[tuple[int, int, str, date, date | None]] = [
    (1, 7, "务工", on(1, 5), on(12, 31)),
    (2, 9, "务工", on(2, 1), on(7, 31)),
    (3, 51, "务工", on(2, 1), on(7, 31)),
    (4, 35, "经商", on(1, 20), None),
    (5, 21, "工作", on(1, 3), on(12, 31)),
]

# The platform that operates the demo's rentals: only it may check guests in at them.
RENTAL_PLATFORM = "rental.demo"

# (id, landlord resident_id, grid_id, name, address, rooms)
RENTALS: list[tuple[int, int, int, str, str, int]] = [
    (1, 34, 7, "李大姨网约房·友谊北里", f"{place_of_grid(7)}6号楼1门803", 2),
    (2, 8, 16, "品湖苑悦居", f"{place_of_grid(16)}12号楼1门302", 1),
]


class CheckIn(NamedTuple):
    id: int
    property_id: int
    guest_name: str
    guest_id_number: str
    resident_id: int | None
    checked_in_at: datetime
    checked_out_at: datetime | None
    verification: str
    flagged: bool = False


# fmt: off
CHECK_INS: list[CheckIn] = [
    CheckIn(1, 1, "潘立", resident(35)["id_number"], 35, at(2, 14, 14), at(2, 16, 11), "verified"),
    CheckIn(2, 1, "魏晨", idnumber.make("320102", date(1993, 7, 4), 315), None, at(3, 6, 15, 30),
            at(3, 8, 12), "verified"),
    # The name does not match the ID number's record: the background check flags the stay.
    CheckIn(3, 1, "李明", idnumber.make("370102", date(1988, 2, 29), 457), None, at(3, 10, 21, 40), None,
            "mismatch", flagged=True),
    CheckIn(4, 1, "陶然", idnumber.make("510104", date(2000, 10, 1), 222), None, at(3, 14, 19), None,
            "pending"),
    CheckIn(5, 2, "范伟", idnumber.make("130104", date(1989, 12, 12), 131), None, at(3, 7, 16), at(3, 9, 10),
            "verified"),
    CheckIn(6, 2, "杜鹃", resident(51)["id_number"], 51, at(3, 13, 20, 15), None, "pending"),
]
# fmt: on

# (id, resident_id, dog, breed, status, applied, reviewed, reason)
# fmt: off
DOG_LICENCES: list[tuple[int, int, str, str, str, datetime, datetime | None, str | None]] = [
    (1, 27, "豆豆", "柯基犬", "applied", at(3, 9, 16), None, None),
    (2, 10, "可乐", "泰迪犬", "applied", at(3, 11, 10), None, None),
    (3, 2, "旺财", "中华田园犬", "pre_reviewed", at(2, 20, 9), at(2, 23, 15), None),
    (4, 37, "球球", "比熊犬", "approved", at(1, 12, 10), at(1, 20, 14), None),
    (5, 47, "黑虎", "藏獒", "rejected", at(2, 2, 11), at(2, 5, 10),
     "藏獒属于本市重点管理区禁止饲养的烈性犬,不予办理"),
    (6, 20, "雪球", "萨摩耶犬", "approved", at(1, 25, 15), at(2, 3, 9), None),
]
# fmt: on


def population_rows() -> list[tuple[Table, list[Row]]]:
    return [
        (table_of(Household), _household_rows()),
        (table_of(Resident), list(resident_rows())),
        (table_of(TemporaryStay), _stay_rows()),
        (table_of(RentalProperty), _rental_rows()),
        (table_of(GuestCheckIn), _check_in_rows()),
        (table_of(DogLicence), _dog_licence_rows()),
    ]


def _stay_rows() -> list[Row]:
    return [
        {
            "id": i,
            "resident_id": r,
            "grid_id": resident(r)["grid_id"],
            "address": resident(r)["address"],
            "reason": reason,
            "start_date": start,
            "end_date": end,
        }
        for i, r, reason, start, end in TEMPORARY_STAYS
    ]


def _rental_rows() -> list[Row]:
    return [
        {
            "id": i,
            "landlord_id": landlord,
            "grid_id": grid,
            "name": name,
            "address": address,
            "rooms": rooms,
            "platform_id": RENTAL_PLATFORM,
        }
        for i, landlord, grid, name, address, rooms in RENTALS
    ]


def _check_in_rows() -> list[Row]:
    grid_of_property = {row[0]: row[2] for row in RENTALS}
    return [
        {
            **c._asdict(),
            "grid_id": grid_of_property[c.property_id],
            "flag_status": "flagged" if c.flagged else "none",
            # A guest who matched a resident is a link to the record, not a copy.
            "guest_name": None if c.resident_id is not None else c.guest_name,
            "guest_id_number": None if c.resident_id is not None else c.guest_id_number,
        }
        for c in CHECK_INS
    ]


def _dog_licence_rows() -> list[Row]:
    return [
        {
            "id": i,
            "resident_id": r,
            "grid_id": resident(r)["grid_id"],
            "dog_name": dog,
            "breed": breed,
            "status": status,
            "applied_at": applied,
            "reviewed_at": reviewed,
            "reason": reason,
        }
        for i, r, dog, breed, status, applied, reviewed, reason in DOG_LICENCES
    ]


# ---------------------------------------------------------------------------- disputes


class Case(NamedTuple):
    id: int
    grid_id: int
    category: str
    status: str
    title: str
    description: str
    reported_at: datetime
    reporter_staff_id: int | None
    closed_at: datetime | None = None


# fmt: off
DISPUTES: list[Case] = [
    Case(1, 10, "neighbour", "agreed", "楼道堆放杂物、安装门帘引发邻里纠纷",
         "王大爷与对门邻居张大爷因在楼道内堆放杂物、安装门帘等琐事发生纠纷,两家矛盾愈演愈烈。"
         "社区民警走访中了解到情况,联合网格员上门调解。",
         at(2, 24, 10), 7),
    Case(2, 12, "noise", "mediating", "楼上噪音扰民引发邻里矛盾",
         "李大爷反映楼上邻居夜间拖动桌椅、孩子跑跳,影响休息,双方多次争吵,需尽快调解。",
         at(3, 10, 8, 30), 12),
    Case(3, 15, "property_damage", "closed", "楼上水管爆裂漏水致楼下受损赔偿纠纷",
         "张先生家水管爆裂,家中无人时大面积漏水,渗到楼下刘先生家,致天花板、墙壁受损。"
         "双方就赔偿数额无法达成一致,向八里台司法所求助。",
         at(2, 16, 9), None, at(3, 5, 16)),
    Case(4, 16, "tenancy", "accepted", "租房押金退还纠纷",
         "租户何俊退租后,房东周桂兰以墙面损坏为由扣留押金2000元,双方协商未果。",
         at(3, 12, 14), 3),
    Case(5, 17, "family", "reported", "赡养老人家庭矛盾",
         "冯秀珍老人反映儿子高建军一家不按时支付生活费,家庭关系紧张。",
         at(3, 14, 10, 20), 10),
    Case(6, 18, "neighbour", "escalated", "楼道电动车充电引发邻里纠纷",
         "邵磊长期在楼道内为电动车充电并堵塞通道,吕大海劝阻时发生推搡,吕家防盗门受损。"
         "调解未达成一致,吕大海坚持起诉,已引导至司法所法律援助。",
         at(2, 28, 19), 17),
    Case(7, 26, "noise", "followed_up", "广场舞音响噪音扰民",
         "居民反映小区广场舞音响音量过大、结束时间过晚,影响老人和学生休息。",
         at(2, 10, 20, 30), 14),
    Case(8, 3, "property_damage", "closed", "装修施工损坏邻居墙面",
         "曾凡家装修时打孔损坏邻居罗振声家墙面瓷砖,双方就修复费用产生争议。",
         at(1, 15, 11), None, at(2, 2, 10)),
    Case(9, 8, "other", "reported", "快递包裹堆放占用消防通道",
         "潘立反映邻居在单元门口长期堆放快递包裹和纸箱,占用消防通道。",
         at(3, 15, 9, 40), None),
]
# fmt: on

# (dispute_id, resident_id or None, role, name when not a resident)
PARTIES: list[tuple[int, int | None, str, str | None]] = [
    (1, 29, "complainant", None),
    (1, 31, "respondent", None),
    (2, 22, "complainant", None),
    (2, 24, "respondent", None),
    (3, 4, "complainant", None),
    (3, 1, "respondent", None),
    (4, 9, "complainant", None),
    (4, 8, "respondent", None),
    (5, 14, "complainant", None),
    (5, 12, "respondent", None),
    (6, 18, "complainant", None),
    (6, 19, "respondent", None),
    (7, 45, "complainant", None),
    (7, None, "respondent", "姚女士(广场舞队负责人)"),
    (8, 39, "complainant", None),
    (8, 40, "respondent", None),
    (9, 35, "complainant", None),
    (9, 36, "respondent", None),
]

# (id, name, kind, organisation, staff_id, phone)
# fmt: off
MEDIATORS: list[tuple[int, str, str, str, int | None, str | None]] = [
    (1, "马世文", "police", "公安南开分局鼓楼派出所", 7, "13920554871"),
    (2, "黄晓雪", "grid_worker", "鼓楼街道鼓楼东社区", 11, "13512298460"),
    (3, "周建军", "police", "公安红桥分局和苑派出所", 6, "13612087745"),
    (4, "吴凤霞", "grid_worker", "和苑街道和苑东里社区", 12, "18602261957"),
    (5, "孟凡超", "judicial", "津南区八里台镇司法所", None, "13820779210"),
    (6, "赵淑芬", "peoples_mediator", "品湖苑社区人民调解委员会", None, "15002238876"),
    (7, "陈立伟", "police", "公安津南分局八里台派出所", 2, "13802215566"),
    (8, "刘婷", "grid_worker", "八里台镇品湖苑社区", 4, "18622153412"),
    (9, "蔡群星", "police", "滨海新区公安局南海路派出所", 8, "15900273318"),
    (10, "徐琳", "grid_worker", "新港街道福瑞社区", 14, "15122640938"),
    (11, "钟国华", "peoples_mediator", "小白楼街道人民调解委员会", None, "13132019543"),
]
# fmt: on


class Sitting(NamedTuple):
    id: int
    dispute_id: int
    held_at: datetime
    mode: str
    location: str
    notes: str
    mediator_ids: tuple[int, ...]


# fmt: off
SESSIONS: list[Sitting] = [
    Sitting(1, 1, at(2, 26, 15), "face_to_face", "鼓楼东社区居委会调解室",
            "民警与网格员上门走访后召集两家面对面调解:楼道是公共通道,杂物和门帘影响通行和消防安全。"
            "双方各退一步,化干戈为玉帛。", (1, 2)),
    Sitting(2, 2, at(3, 11, 19), "separate", "和苑东里社区警务室",
            "背对背分别听取双方意见:李大爷反映夜间噪音;宋先生表示将铺设地垫、晚十点后注意。"
            "约定下周面对面沟通。", (3, 4)),
    Sitting(3, 3, at(2, 17, 10), "face_to_face", "品湖苑社区3号楼2门501(现场)",
            "现场查看刘先生家客厅、卧室天花板和墙壁受损情况并确认。向双方说明司法鉴定费用高、耗时长,"
            "引导通过调解解决。", (5, 6)),
    Sitting(4, 3, at(2, 18, 15), "separate", "八里台司法所调解室",
            "背对背:劝导张先生作为房屋所有人换位思考、积极处理;劝导刘先生所提赔偿数额过大、依据不足,"
            "僵持反而加剧矛盾。", (5, 6)),
    Sitting(5, 3, at(2, 19, 10), "face_to_face", "八里台司法所调解室",
            "面对面协商,双方达成调解协议,张先生当场一次性全额赔偿。", (5, 6)),
    Sitting(6, 6, at(3, 3, 19, 30), "face_to_face", "丽湖苑社区警务室",
            "民警与人民调解员组织双方调解,邵磊同意不再在楼道充电,但双方对防盗门赔偿金额分歧较大,"
            "调解未成。", (7, 6)),
    Sitting(7, 7, at(2, 12, 18), "face_to_face", "福瑞社区居委会",
            "民警、网格员与居民代表、广场舞队负责人面对面协商活动时间和音量。", (9, 10)),
    Sitting(8, 8, at(1, 20, 14), "face_to_face", "滨江道社区人民调解室",
            "人民调解员现场查看墙面损坏情况,双方协商修复费用。", (11,)),
]
# fmt: on

# (id, dispute_id, terms, amount, signed on, via the judicial office)
# fmt: off
AGREEMENTS: list[tuple[int, int, str, Decimal | None, date, bool]] = [
    (1, 1, "双方各自清理楼道内堆放的杂物,保持消防通道畅通;张家将门帘改挂于户门内侧,不再占用公共楼道;"
           "今后互谅互让、和睦相处。", None, on(2, 26), False),
    (2, 3, "张志远一次性全额赔偿刘建华房屋受损等相关损失人民币9000元,当场付清;双方就此纠纷再无其他争议。",
     Decimal("9000.00"), on(2, 19), True),
    (3, 7, "广场舞活动每晚20:30前结束,音响音量控制在60分贝以下;居委会协调活动场地远离居民楼。",
     None, on(2, 12), False),
    (4, 8, "曾凡承担墙面瓷砖修复费用人民币1200元,并于一周内请施工队修复完毕。",
     Decimal("1200.00"), on(1, 20), False),
]
# fmt: on

# (id, dispute_id, visited_at, note, by_staff_id)
# fmt: off
FOLLOW_UPS: list[tuple[int, int, datetime, str, int | None]] = [
    (1, 3, at(3, 5, 15), "回访:刘先生家天花板和墙壁已修缮完毕,两家关系融洽,纠纷圆满解决。", 4),
    (2, 7, at(3, 2, 20), "回访:广场舞活动按约定时间结束,居民反映噪音明显减小。", 14),
    (3, 8, at(2, 2, 9, 30), "回访:墙面已修复,双方无异议。", None),
]
# fmt: on


def dispute_rows() -> list[tuple[Table, list[Row]]]:
    return [
        (table_of(Dispute), _case_rows()),
        (table_of(DisputeParty), _party_rows()),
        (
            table_of(Mediator),
            [
                {"id": i, "name": name, "kind": kind, "organisation": org, "staff_id": staff, "phone": phone}
                for i, name, kind, org, staff, phone in MEDIATORS
            ],
        ),
        (
            table_of(MediationSession),
            [
                {
                    "id": s.id,
                    "dispute_id": s.dispute_id,
                    "held_at": s.held_at,
                    "mode": s.mode,
                    "location": s.location,
                    "notes": s.notes,
                }
                for s in SESSIONS
            ],
        ),
        (table_of(SessionMediator), _session_mediator_rows()),
        (
            table_of(Agreement),
            [
                {
                    "id": i,
                    "dispute_id": d,
                    "terms": terms,
                    "amount": amount,
                    "signed_at": signed,
                    "via_judicial_office": judicial,
                }
                for i, d, terms, amount, signed, judicial in AGREEMENTS
            ],
        ),
        (
            table_of(FollowUp),
            [
                {"id": i, "dispute_id": d, "visited_at": visited, "note": note, "by_staff_id": staff}
                for i, d, visited, note, staff in FOLLOW_UPS
            ],
        ),
    ]


def _case_rows() -> list[Row]:
    return [
        {
            **case._asdict(),
            "code": dispute_code(case.reported_at.year, case.id),
            "street_id": street_of_grid(case.grid_id),
            "version": 1,
        }
        for case in DISPUTES
    ]


def _party_rows() -> list[Row]:
    rows = []
    for n, (dispute_id, resident_id, role, name) in enumerate(PARTIES, start=1):
        # A resident party is a link to the record: no copy of the name, phone or ID number.
        rows.append(
            {
                "id": n,
                "dispute_id": dispute_id,
                "resident_id": resident_id,
                "role": role,
                "name": None if resident_id is not None else name,
                "phone": None,
                "id_number": None,
            }
        )
    return rows


def _session_mediator_rows() -> list[Row]:
    pairs = [(s.id, m) for s in SESSIONS for m in s.mediator_ids]
    return [{"id": n, "session_id": s, "mediator_id": m} for n, (s, m) in enumerate(pairs, start=1)]


# ---------------------------------------------------------------------------- volunteers

# (id, name, brand, district_id, founded_on); the last two brands are the demo's own.
TEAMS: list[tuple[int, str, str, int, date]] = [
    (1, "滨城义警·新港福瑞分队", "滨城义警", 13, date(2019, 9, 10)),
    (2, "和平红马甲·开封道服务队", "和平红马甲", 1, date(2017, 3, 5)),
    (3, "北辰双环益盾·果园新村队", "北辰双环益盾", 10, date(2020, 6, 18)),
    (4, "八里台平安志愿服务队", "八里台平安守望", 9, date(2021, 4, 1)),
    (5, "和苑邻里守望队", "和苑守望", 6, date(2022, 8, 8)),
]

# (id, resident_id, team_id, skills, status, joined_on)
VOLUNTEERS: list[tuple[int, int, int, str, str, date]] = [
    (1, 45, 1, "巡逻防控,反诈宣传", "active", on(1, 6)),
    (2, 44, 1, "邻里守望", "active", on(1, 6)),
    (3, 37, 2, "巡逻防控,矛盾调解", "active", on(1, 8)),
    (4, 38, 2, "交通劝导", "active", on(1, 8)),
    (5, 39, 2, "法律咨询", "inactive", on(1, 9)),
    (6, 47, 3, "巡逻防控,消防", "active", on(1, 12)),
    (7, 48, 3, "应急救护", "active", on(1, 12)),
    (8, 6, 4, "巡逻防控", "active", on(1, 15)),
    (9, 5, 4, "矛盾调解", "active", on(1, 15)),
    (10, 20, 4, "反诈宣传", "active", on(1, 16)),
    (11, 18, 4, "巡逻防控", "active", on(1, 16)),
    (12, 23, 5, "邻里守望", "active", on(1, 20)),
    (13, 28, 5, "反诈宣传", "active", on(1, 20)),
]

# (id, team_id, grid_id, starts, ends, route, volunteer ids)
# fmt: off
PATROLS: list[tuple[int, int, int, datetime, datetime, str, tuple[int, ...]]] = [
    (1, 1, 26, at(3, 10, 19), at(3, 10, 21), "福瑞社区8号楼—南海路—社区广场", (1, 2)),
    (2, 2, 1, at(3, 11, 9), at(3, 11, 11), "开封道—南京路—小白楼商圈", (3, 4)),
    (3, 3, 22, at(3, 12, 19, 30), at(3, 12, 21, 30), "果园新村二区—五区—社区公园", (6, 7)),
    (4, 4, 15, at(3, 13, 18, 30), at(3, 13, 20, 30), "品湖苑3号楼—5号楼—中心花园", (8, 9)),
    (5, 4, 18, at(3, 14, 8), at(3, 14, 10), "丽湖苑—天津大道辅路", (10, 11)),
    (6, 5, 12, at(3, 15, 19), at(3, 15, 21), "和苑东里7号楼—11号楼—和苑西里", (12, 13)),
]
# fmt: on


def volunteer_rows() -> list[tuple[Table, list[Row]]]:
    pairs = [(p[0], v) for p in PATROLS for v in p[6]]
    return [
        (
            table_of(VolunteerTeam),
            [
                {"id": i, "name": name, "brand": brand, "district_id": d, "founded_on": founded}
                for i, name, brand, d, founded in TEAMS
            ],
        ),
        (
            table_of(Volunteer),
            [
                {
                    "id": i,
                    "resident_id": r,
                    "team_id": team,
                    "grid_id": resident(r)["grid_id"],
                    "skills": skills,
                    "status": status,
                    "joined_on": joined,
                }
                for i, r, team, skills, status, joined in VOLUNTEERS
            ],
        ),
        (
            table_of(Patrol),
            [
                {"id": i, "team_id": team, "grid_id": grid, "starts_at": starts, "ends_at": ends, "route": route}
                for i, team, grid, starts, ends, route, _ in PATROLS
            ],
        ),
        (
            table_of(PatrolMember),
            [{"id": n, "patrol_id": p, "volunteer_id": v} for n, (p, v) in enumerate(pairs, start=1)],
        ),
    ]


# ---------------------------------------------------------------------------- traffic

# (id, plate, type, colour, brand, owner resident_id, registered_on)
VEHICLES: list[tuple[int, str, str, str, str, int, date]] = [
    (1, "津BE6237", "重型半挂牵引车", "红色", "解放", 16, date(2021, 6, 18)),
    (2, "津A3K729", "小型轿车", "白色", "大众", 4, date(2019, 4, 2)),
    (3, "津C58N21", "小型轿车", "黑色", "丰田", 1, date(2022, 8, 30)),
    (4, "津E62173", "小型轿车", "银色", "本田", 42, date(2018, 11, 12)),
    (5, "津HQ2208", "轻型厢式货车", "蓝色", "江铃", 50, date(2020, 3, 25)),
    (6, "津NP1907", "小型轿车", "白色", "比亚迪", 45, date(2023, 5, 6)),
    (7, "津RT5532", "小型轿车", "白色", "吉利", 24, date(2024, 1, 15)),
    (8, "津JG0815", "小型轿车", "灰色", "别克", 29, date(2015, 7, 9)),
    (9, "津KL3306", "小型越野客车", "黑色", "哈弗", 10, date(2021, 10, 1)),
    (10, "津MB7740", "小型轿车", "红色", "长安", 19, date(2025, 9, 12)),
]

# (id, code, road, location, grid_id)
CAMERAS: list[tuple[int, str, str, str, int | None]] = [
    (1, "JN-TJDD-K21.8", "天津大道", "天津大道下行21.8公里处", 18),
    (2, "JN-TJDD-K12.5", "天津大道", "天津大道上行12.5公里处", 15),
    (3, "HP-NJL-001", "南京路", "南京路与营口道交口", 1),
    (4, "BH-NHL-003", "南海路", "南海路与新港路交口", 26),
    (5, "HX-YYL-002", "友谊路", "友谊路与围堤道交口", 7),
]

# (id, camera_id, plate as read, observed type, observed colour, captured_at, vehicle_id)
CAPTURES: list[tuple[int, int, str, str, str, datetime, int | None]] = [
    # A "0" stuck over the "E" of 津BE6237: the plate read matches no registered vehicle.
    (1, 1, "津B06237", "重型半挂牵引车", "红色", at(3, 12, 8, 51), None),
    (2, 2, "津A3K729", "小型轿车", "白色", at(3, 12, 7, 40), 2),
    (3, 3, "津E62173", "小型轿车", "银色", at(3, 12, 10, 5), 4),
    (4, 2, "津D9X455", "小型普通客车", "白色", at(3, 13, 18, 20), None),
    (5, 4, "津NP1907", "中型货车", "蓝色", at(3, 13, 11, 12), 6),
    (6, 5, "津RT5532", "小型轿车", "黑色", at(3, 9, 22, 47), 7),
    (7, 1, "津HQ2208", "轻型厢式货车", "蓝色", at(3, 12, 9, 15), 5),
    (8, 1, "津KL3306", "小型越野客车", "黑色", at(3, 14, 17, 2), 9),
]


class Alert(NamedTuple):
    id: int
    capture_id: int
    vehicle_id: int | None
    kind: str
    status: str
    raised_at: datetime
    detail: str
    dispatched_to_staff_id: int | None = None
    intercepted_at: datetime | None = None
    intercept_location: str | None = None


# fmt: off
ALERTS: list[Alert] = [
    Alert(1, 1, 1, "altered", "closed", at(3, 12, 8, 51),
          "号牌“津B06237”无登记记录,车型、颜色与津BE6237(红色重型半挂牵引车)一致,疑似变造号牌(“E”为“0”)。经核查,"
          "驾驶人用写有数字“0”的塑料牌贴在原号牌字母“E”上。",
          2, at(3, 12, 9, 36), "天津大道下行21.8公里处"),
    Alert(2, 4, None, "unregistered", "raised", at(3, 13, 18, 20), "号牌“津D9X455”无登记记录。"),
    Alert(3, 5, 6, "mismatch", "dispatched", at(3, 13, 11, 12),
          "津NP1907登记为白色小型轿车,抓拍为蓝色中型货车,疑似套用号牌。", 8),
    Alert(4, 6, 7, "cloned", "closed", at(3, 9, 22, 47),
          "津RT5532同日两地出现,疑似克隆号牌;经核查为夜间识别误差,与登记车辆一致,解除预警。", 16),
]
# fmt: on

# (id, alert_id, vehicle_id, description, fine, points, detention days, decided on, driver resident_id)
# fmt: off
VIOLATIONS: list[tuple[int, int | None, int | None, str, Decimal, int, int, date, int | None]] = [
    # The driver 张某某 is the lorry's owner, 张国强 (resident 16): a link to his record.
    (1, 1, 1, "驾驶人张某某使用伪造、变造机动车号牌(用写有数字“0”的塑料牌遮挡号牌字母“E”)",
     Decimal("5000.00"), 12, 15, on(3, 12), 16),
]
# fmt: on


def traffic_rows() -> list[tuple[Table, list[Row]]]:
    grid_of_alert = {row["id"]: row["grid_id"] for row in _alert_rows()}
    return [
        (
            table_of(Vehicle),
            [
                {
                    "id": i,
                    "plate": plate,
                    "vehicle_type": kind,
                    "colour": colour,
                    "brand": brand,
                    "owner_id": owner,
                    "grid_id": resident(owner)["grid_id"],
                    "registered_on": registered,
                }
                for i, plate, kind, colour, brand, owner, registered in VEHICLES
            ],
        ),
        (
            table_of(Camera),
            [
                {"id": i, "code": code, "road": road, "location": location, "grid_id": grid}
                for i, code, road, location, grid in CAMERAS
            ],
        ),
        (
            table_of(Capture),
            [
                {
                    "id": i,
                    "camera_id": camera,
                    "plate": plate,
                    "observed_type": kind,
                    "observed_colour": colour,
                    "captured_at": captured,
                    "vehicle_id": vehicle,
                }
                for i, camera, plate, kind, colour, captured, vehicle in CAPTURES
            ],
        ),
        (table_of(PlateAlert), _alert_rows()),
        (
            table_of(Violation),
            [
                {
                    "id": i,
                    "alert_id": alert,
                    "vehicle_id": vehicle,
                    "grid_id": grid_of_alert[alert] if alert is not None else None,
                    "description": text,
                    "fine_yuan": fine,
                    "points": points,
                    "detention_days": days,
                    "decided_on": decided,
                    "driver_id": driver,
                    "driver_name": None,
                }
                for i, alert, vehicle, text, fine, points, days, decided, driver in VIOLATIONS
            ],
        ),
    ]


def _alert_rows() -> list[Row]:
    """Each alert lies in its camera's grid, and its time is its capture's."""
    grid_of_camera = {row[0]: row[4] for row in CAMERAS}
    capture = {row[0]: row for row in CAPTURES}
    return [
        {**a._asdict(), "grid_id": grid_of_camera[capture[a.capture_id][1]], "raised_at": capture[a.capture_id][5]}
        for a in ALERTS
    ]


def rows_by_domain() -> dict[str, list[tuple[Table, list[Row]]]]:
    """Every demo row, per domain, tables in foreign-key order."""
    return {
        "grid": grid_rows(),
        "population": population_rows(),
        "dispute": dispute_rows(),
        "volunteer": volunteer_rows(),
        "traffic": traffic_rows(),
    }
