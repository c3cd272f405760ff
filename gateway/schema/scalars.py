"""The DateTime scalar in the gateway's time zone (``gateway.kernel.times``): every time goes out as
ISO 8601 with its offset, whichever database or read path it came from.

A time sent with an offset is converted to UTC here; one without is passed on as it is, for the
mutation to refuse naming its argument (``gateway.write.inputs.moment``): a refusal by the scalar
itself could not say which field was wrong."""

from __future__ import annotations

import datetime as dt
from typing import Any

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

from gateway.kernel.times import local

DATE_TIME = (
    "日期时间(ISO 8601,含时区偏移,如 2026-03-12T08:51:00+08:00;输出为网关时区 GATEWAY_TIMEZONE,"
    "默认 Asia/Shanghai;输入须带偏移,不带偏移的时间被拒绝 BAD_USER_INPUT) / date and time, ISO 8601 with "
    "its offset, e.g. 2026-03-12T08:51:00+08:00. Times are given in the gateway's time zone (GATEWAY_TIMEZONE, "
    "default Asia/Shanghai, +08:00); a time sent must carry an offset (of any zone, or Z): one without is "
    "refused (BAD_USER_INPUT naming the argument)"
)
DATE = (
    "日期(ISO 8601,网关时区的本地日期) / calendar date, ISO 8601: a local date in the gateway's time zone "
    "(GATEWAY_TIMEZONE, default Asia/Shanghai), whose day runs from local midnight to midnight"
)


def date_time(zone: dt.tzinfo) -> ScalarDefinition:
    def serialize(value: Any) -> str:
        return local(value, zone).isoformat()

    def parse_value(value: object) -> dt.datetime:
        if not isinstance(value, str):
            raise StrawberryInputCoercionError(f'Value cannot represent a DateTime: "{value}". Expected a string.')
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError as error:
            raise StrawberryInputCoercionError(f'Value cannot represent a DateTime: "{value}". {error}') from None
        return moment if moment.tzinfo is None else moment.astimezone(dt.UTC)

    return ScalarDefinition(
        name="DateTime",
        description=DATE_TIME,
        specified_by_url=None,
        serialize=serialize,
        parse_value=parse_value,
        parse_literal=None,
        origin=dt.datetime,
    )
