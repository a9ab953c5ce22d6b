"""Making a Kafka cluster's ACLs match acls.yaml: `warmhandoff topics apply --acls` and
`topics check --acls`.

`apply_acls` creates the bindings the broker lacks and reports those it has for the file's
principals that the file does not grant (deleting them only with `prune`); `check_acls` only
reports. Bindings of other principals (administrators, other applications) are never read into
the report or touched.

aiokafka's admin client has no ACL methods, so the three ACL requests (DescribeAcls,
CreateAcls, DeleteAcls, version 1: the first with resource patterns, which Kafka 4 still
serves) go through the client it holds, to any broker: a KRaft broker forwards changes to the
controller. Every error code in a response is checked. A change is acknowledged once the
controller has recorded it; brokers apply it a moment later, so `apply_acls` returns only once
the broker answering DescribeAcls shows every change.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, TypeVar

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    IncompatibleBrokerVersion,
    SecurityDisabled,
    for_code,
)
from aiokafka.protocol.admin import (
    CreateAclsRequest_v1,
    DeleteAclsRequest_v1,
    DescribeAclsRequest,
)
from aiokafka.protocol.api import Request

from warmhandoff.streams.config.connection import ConnectionSettings
from warmhandoff.streams.contract.acls import (
    AclBinding,
    Acls,
    Operation,
    PatternType,
    Permission,
    ResourceType,
    diff_bindings,
)
from warmhandoff.streams.contract.errors import AclError
from warmhandoff.streams.runtime.broker import is_embedded
from warmhandoff.streams.runtime.topic_admin import admin_client

ADMIN_TIMEOUT_SECONDS = 30.0
VISIBLE_POLL_SECONDS = 0.1

E = TypeVar("E", bound=IntEnum)


@dataclass
class AclsReport:
    """What apply/check found for the file's principals."""

    created: list[AclBinding] = field(default_factory=list)
    deleted: list[AclBinding] = field(default_factory=list)
    in_place: list[AclBinding] = field(default_factory=list)
    missing: list[AclBinding] = field(default_factory=list)  # `check` leaves them missing
    extra: list[AclBinding] = field(default_factory=list)  # on the broker, not in the file
    failed: list[tuple[AclBinding, str]] = field(default_factory=list)  # (binding, why)

    @property
    def ok(self) -> bool:
        """False when a binding the file grants is missing or could not be changed."""
        return not self.missing and not self.failed


# --- requests aiokafka has no admin method for ------------------------------------------


class _CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]  # aiokafka is untyped
    """CreateAcls v1 for many bindings at once (aiokafka's own request carries one)."""

    API_KEY = CreateAclsRequest_v1.API_KEY

    def __init__(self, bindings: Sequence[AclBinding]) -> None:
        self._bindings = bindings

    def build(self, request_struct_class: type[Any]) -> Any:
        return request_struct_class([_wire(b) for b in self._bindings])


class _DeleteAcls(Request[DeleteAclsRequest_v1]):  # type: ignore[misc]
    """DeleteAcls v1 with one exact filter per binding."""

    API_KEY = DeleteAclsRequest_v1.API_KEY

    def __init__(self, bindings: Sequence[AclBinding]) -> None:
        self._bindings = bindings

    def build(self, request_struct_class: type[Any]) -> Any:
        return request_struct_class([_wire(b) for b in self._bindings])


def _wire(b: AclBinding) -> tuple[int, str, int, str, str, int, int]:
    """A binding in the field order of CreateAcls creations and DeleteAcls filters (v1)."""
    return (
        int(b.resource_type),
        b.resource_name,
        int(b.pattern_type),
        b.principal,
        b.host,
        int(b.operation),
        int(b.permission),
    )


# --- admin operations ------------------------------------------------------------------


async def apply_acls(
    acls: Acls, settings: ConnectionSettings, *, prune: bool = False
) -> AclsReport:
    """Create the bindings the broker lacks; report (or, with `prune`, delete) the extra ones."""
    report = AclsReport()
    async with _admin(settings) as admin:
        actual = await _describe(admin, acls.principals(), settings)
        diff = diff_bindings(acls.bindings(), actual)
        report.in_place.extend(diff.in_place)
        if diff.missing:
            await _create(admin, diff.missing, report, settings)
        if prune and diff.extra:
            await _delete(admin, diff.extra, report, settings)
        else:
            report.extra.extend(diff.extra)
        if report.created or report.deleted:
            await _wait_applied(admin, acls.principals(), report, settings)
    return report


async def check_acls(acls: Acls, settings: ConnectionSettings) -> AclsReport:
    """Report missing and extra bindings without changing anything."""
    async with _admin(settings) as admin:
        actual = await _describe(admin, acls.principals(), settings)
    diff = diff_bindings(acls.bindings(), actual)
    return AclsReport(
        in_place=list(diff.in_place), missing=list(diff.missing), extra=list(diff.extra)
    )


@asynccontextmanager
async def _admin(settings: ConnectionSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    async with admin_client(settings, "ACL") as admin:
        described = await admin.describe_cluster()
        if is_embedded(described.get("cluster_id")):
            # It answers DescribeAcls with an empty list and breaks on CreateAcls.
            raise AclError(
                f"the embedded broker at {settings.bootstrap_servers} has no ACLs: use "
                "Apache Kafka with an authorizer (docs/security.md), or run without --acls"
            )
        yield admin


async def _send(admin: AIOKafkaAdminClient, request: Any, settings: ConnectionSettings) -> Any:
    """Send a request to any broker; AclError when the broker has no such API."""
    try:
        return await admin._send_request(request)  # the admin client's own way to any node
    except (IncompatibleBrokerVersion, NotImplementedError):
        raise AclError(
            f"the broker at {settings.bootstrap_servers} has no ACL API: use Apache Kafka "
            "with an authorizer (docs/security.md), or run without --acls"
        ) from None


async def _describe(
    admin: AIOKafkaAdminClient, principals: Iterable[str], settings: ConnectionSettings
) -> set[AclBinding]:
    """Every binding the broker holds for `principals`, whatever the resource or pattern."""
    found: set[AclBinding] = set()
    for principal in principals:
        request = DescribeAclsRequest(
            resource_type=ResourceType.ANY,
            resource_name=None,
            resource_pattern_type_filter=PatternType.ANY,
            principal=principal,
            host=None,
            operation=Operation.ANY,
            permission_type=Permission.ANY,
        )
        response = await _send(admin, request, settings)
        _raise_for_describe(response.error_code, response.error_message, principal, settings)
        for resource_type, name, pattern_type, entries in response.resources:
            for entry_principal, host, operation, permission in entries:
                found.add(
                    AclBinding(
                        principal=entry_principal,
                        resource_type=_member(ResourceType, resource_type),
                        resource_name=name,
                        pattern_type=_member(PatternType, pattern_type),
                        operation=_member(Operation, operation),
                        permission=_member(Permission, permission),
                        host=host,
                    )
                )
    return found


def _raise_for_describe(
    code: int, message: str | None, principal: str, settings: ConnectionSettings
) -> None:
    if code == 0:
        return
    where = settings.bootstrap_servers
    if code == SecurityDisabled.errno:
        raise AclError(
            f"the broker at {where} has no authorizer (authorizer.class.name): set one "
            "(docs/security.md), or run without --acls"
        )
    if code == ClusterAuthorizationFailedError.errno:
        raise AclError(
            f"{settings.sasl_username or 'this client'} may not describe ACLs on {where}: run "
            "`topics --acls` as a super user (WARMHANDOFF_SASL_USERNAME)"
        )
    error = for_code(code).__name__
    raise AclError(f"describing the ACLs of {principal} on {where} failed: {error} {message or ''}")


def _member(kind: type[E], value: int) -> E:
    """A wire code as its enum member; AclError for a code this version does not know."""
    try:
        return kind(value)
    except ValueError:
        raise AclError(
            f"the broker reported an ACL with {kind.__name__} code {value}, unknown to this "
            "version of warmhandoff: inspect it with kafka-acls --list"
        ) from None


async def _create(
    admin: AIOKafkaAdminClient,
    bindings: Sequence[AclBinding],
    report: AclsReport,
    settings: ConnectionSettings,
) -> None:
    response = await _send(admin, _CreateAcls(bindings), settings)
    results = response.creation_responses
    for binding, (code, message) in zip(bindings, results, strict=True):
        if code == 0:
            report.created.append(binding)
        else:
            report.failed.append((binding, f"not created: {_error(code, message)}"))


async def _delete(
    admin: AIOKafkaAdminClient,
    bindings: Sequence[AclBinding],
    report: AclsReport,
    settings: ConnectionSettings,
) -> None:
    response = await _send(admin, _DeleteAcls(bindings), settings)
    for binding, result in zip(bindings, response.filter_responses, strict=True):
        code, message, matching = result[0], result[1], result[2]
        failures = [_error(m[0], m[1]) for m in matching if m[0] != 0]
        if code == 0 and not failures:
            report.deleted.append(binding)
        else:
            why = _error(code, message) if code else failures[0]
            report.failed.append((binding, f"not deleted: {why}"))


def _error(code: int, message: str | None) -> str:
    return f"{for_code(code).__name__} {message or ''}".strip()


async def _wait_applied(
    admin: AIOKafkaAdminClient,
    principals: list[str],
    report: AclsReport,
    settings: ConnectionSettings,
) -> None:
    """Return once the broker shows every binding created and none of those deleted."""
    while True:
        actual = await _describe(admin, principals, settings)
        if actual.issuperset(report.created) and actual.isdisjoint(report.deleted):
            return
        await asyncio.sleep(VISIBLE_POLL_SECONDS)
