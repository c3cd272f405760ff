"""The caller, as ``me`` shows it."""

from __future__ import annotations

import strawberry

from gateway.auth import Principal


@strawberry.type(description="当前调用者的辖区 / the caller's area")
class MyArea:
    kind: str = strawberry.field(description="辖区类型(city/street/community/grid/police_grid) / area kind")
    name: str = strawberry.field(description="辖区名称 / area name")
    grid_count: int | None = strawberry.field(description="覆盖网格数(全市为空) / grids covered, null for the city")


@strawberry.type(description="当前调用者 / the authenticated caller")
class Me:
    id: str = strawberry.field(description="主体标识 / principal ID")
    kind: str = strawberry.field(description="主体类型(staff 工作人员 / partner 合作单位) / principal kind")
    role: str = strawberry.field(description="角色 / role")
    name: str = strawberry.field(description="名称 / name")
    agency: str = strawberry.field(description="所属单位 / agency")
    scopes: list[str] = strawberry.field(description="令牌授权范围 / scopes granted by the token")
    area: MyArea = strawberry.field(description="辖区 / area")
    token_id: str = strawberry.field(description="令牌编号(用于吊销) / token ID, for revocation")

    @classmethod
    def of(cls, principal: Principal) -> Me:
        record = principal.record
        grids = None if record.area.grid_ids is None else len(record.area.grid_ids)
        return cls(
            id=record.id,
            kind=record.kind,
            role=record.role,
            name=record.name,
            agency=record.agency,
            scopes=list(principal.scopes),
            area=MyArea(kind=record.area.kind, name=record.area.name, grid_count=grids),
            token_id=principal.token_id,
        )
