"""Order inputs of the population domain's connections: one key each, ties broken by ID."""

from __future__ import annotations

import strawberry

from gateway.data import SortDirection
from gateway.schema import newest_key, sort_key


@strawberry.input(description="排序(一个键,同值按标识) / order of Resident items: one key, ties by ID")
class ResidentOrder:
    id: SortDirection | None = newest_key()
    name: SortDirection | None = sort_key("Resident.name", "按姓名 / by name")
    registered_at: SortDirection | None = sort_key("Resident.registeredAt", "按登记时间 / by registration time")
    status: SortDirection | None = sort_key("Resident.status", "按状态 / by status")


@strawberry.input(description="排序(一个键,同值按标识) / order of registrations: one key, ties by ID")
class ResidentRegistrationOrder:
    id: SortDirection | None = newest_key()
    name: SortDirection | None = sort_key("ResidentRegistration.name", "按姓名 / by name")
    submitted_at: SortDirection | None = sort_key("ResidentRegistration.submittedAt", "按提交时间 / by submission time")
    status: SortDirection | None = sort_key("ResidentRegistration.status", "按状态 / by status")


@strawberry.input(description="排序(一个键,同值按标识) / order of Household items: one key, ties by ID")
class HouseholdOrder:
    id: SortDirection | None = newest_key()
    number: SortDirection | None = sort_key("Household.number", "按户号 / by household number")


@strawberry.input(
    description="TemporaryStay 排序(一个键,同值按标识) / order of TemporaryStay items: one key, ties by ID"
)
class TemporaryStayOrder:
    id: SortDirection | None = newest_key()
    start_date: SortDirection | None = sort_key("TemporaryStay.startDate", "按起始日期 / by start date")


@strawberry.input(
    description="RentalProperty 排序(一个键,同值按标识) / order of RentalProperty items: one key, ties by ID"
)
class RentalPropertyOrder:
    id: SortDirection | None = newest_key()
    name: SortDirection | None = sort_key("RentalProperty.name", "按名称 / by name")


@strawberry.input(description="排序(一个键,同值按标识) / order of GuestCheckIn items: one key, ties by ID")
class GuestCheckInOrder:
    id: SortDirection | None = newest_key()
    checked_in_at: SortDirection | None = sort_key("GuestCheckIn.checkedInAt", "按入住时间 / by check-in time")
    flag_status: SortDirection | None = sort_key("GuestCheckIn.flagStatus", "按处置状态 / by flag status")


@strawberry.input(description="排序(一个键,同值按标识) / order of DogLicence items: one key, ties by ID")
class DogLicenceOrder:
    id: SortDirection | None = newest_key()
    applied_at: SortDirection | None = sort_key("DogLicence.appliedAt", "按申请时间 / by application time")
    status: SortDirection | None = sort_key("DogLicence.status", "按状态 / by status")
