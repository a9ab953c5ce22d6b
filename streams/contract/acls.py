"""Access per process from acls.yaml: the Kafka ACL bindings each principal needs.

acls.yaml (beside topics.yaml) names one principal per role and the topics, by logical key,
and consumer groups that role reads or writes. `load_acls` validates the file against the
topics and expands it into bindings with real names (the topic prefix and app id applied);
`diff_bindings` compares them with what a broker holds. Making a cluster match is the
runtime's ACL admin (streams/runtime/acl_admin.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from warmhandoff.streams.contract.errors import ConfigError
from warmhandoff.streams.contract.topics import AnchoredFile, Topics

PACKAGED_ACLS_FILE = Path(__file__).with_name("acls.yaml")
ANY_HOST = "*"
PREFIX_MARK = "*"  # an id ending in it grants every id starting with the rest

_ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_PRINCIPAL = re.compile(r"^User:[A-Za-z0-9._@-]+$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_ID_PLACEHOLDERS = frozenset({"prefix", "app_id"})
_LEGAL_ID = re.compile(r"^[A-Za-z0-9._-]+$")


# Kafka's own codes (org.apache.kafka.common.resource / .acl): they go on the wire as is.
class ResourceType(IntEnum):
    """What an ACL binding is about."""

    UNKNOWN = 0
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5
    DELEGATION_TOKEN = 6
    USER = 7


class PatternType(IntEnum):
    """How a binding's resource name matches: exactly, or as the start of a name."""

    UNKNOWN = 0
    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    """What a binding allows or denies."""

    UNKNOWN = 0
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12
    CREATE_TOKENS = 13
    DESCRIBE_TOKENS = 14
    TWO_PHASE_COMMIT = 15


class Permission(IntEnum):
    """Whether a binding allows or denies its operation."""

    UNKNOWN = 0
    ANY = 1
    DENY = 2
    ALLOW = 3


@dataclass(frozen=True, order=True, slots=True)
class AclBinding:
    """One ACL binding: a principal's permission for one operation on a resource pattern."""

    principal: str
    resource_type: ResourceType
    resource_name: str
    pattern_type: PatternType
    operation: Operation
    permission: Permission = Permission.ALLOW
    host: str = ANY_HOST

    def __str__(self) -> str:
        kind = self.resource_type.name.lower()
        if self.pattern_type is PatternType.PREFIXED:
            resource = f"{kind}s starting {self.resource_name}"
        elif self.pattern_type is PatternType.LITERAL:
            resource = f"{kind} {self.resource_name}"
        else:
            resource = f"{kind} {self.resource_name} ({self.pattern_type.name.lower()})"
        host = "" if self.host == ANY_HOST else f" from {self.host}"
        return f"{self.principal} {self.permission.name} {self.operation.name} on {resource}{host}"


# --- the file --------------------------------------------------------------------------


class RoleSpec(BaseModel):
    """One role as acls.yaml declares it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    principal: str
    description: str = Field(min_length=1, pattern=r"^[^\n]+$")
    reads: list[str] = []  # logical topic keys
    writes: list[str] = []
    groups: list[str] = []  # group ids with {prefix}/{app_id}; a trailing * makes a prefix
    transactional_ids: list[str] = []  # the same, for producers using transactions
    checks_topics: bool  # may describe every declared topic and its configs

    @field_validator("principal")
    @classmethod
    def _user_principal(cls, value: str) -> str:
        if not _PRINCIPAL.match(value):
            raise ValueError(
                f"{value!r}: expected User:NAME (letters, digits, '.', '_', '-', '@'), the SASL "
                "user name the role's process connects as"
            )
        return value

    @field_validator("reads", "writes", "groups", "transactional_ids")
    @classmethod
    def _no_repeats(cls, values: list[str]) -> list[str]:
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"listed twice: {', '.join(repeated)}")
        return values

    @field_validator("groups", "transactional_ids")
    @classmethod
    def _id_patterns(cls, values: list[str]) -> list[str]:
        for value in values:
            _check_id_pattern(value)
        return values


class AclsFile(AnchoredFile):
    """The whole of acls.yaml."""

    roles: dict[str, RoleSpec] = Field(min_length=1)

    @field_validator("roles")
    @classmethod
    def _role_names(cls, roles: dict[str, RoleSpec]) -> dict[str, RoleSpec]:
        for name in roles:
            if not _ROLE_NAME.match(str(name)):
                raise ValueError(f"role name {name!r}: use lower-case letters, digits, '_', '-'")
        return roles


def _check_id_pattern(pattern: str) -> None:
    """A ValueError naming what is wrong with a group or transactional id of the file."""
    unknown = set(_PLACEHOLDER.findall(pattern)) - _ID_PLACEHOLDERS
    if unknown:
        raise ValueError(
            f"{pattern!r}: unknown placeholder {{{sorted(unknown)[0]}}} "
            "(known: {prefix}, {app_id})"
        )
    body = pattern.removesuffix(PREFIX_MARK)
    sample = _PLACEHOLDER.sub("x", body)
    if PREFIX_MARK in body or not _LEGAL_ID.match(sample):
        raise ValueError(
            f"{pattern!r}: use letters, digits, '.', '_', '-', the {{prefix}} and "
            "{app_id} placeholders, and '*' only at the end"
        )


# --- the bindings of one deployment ------------------------------------------------------


@dataclass(frozen=True)
class Role:
    """One role of one deployment: its principal and the bindings it needs, names real."""

    name: str
    principal: str
    description: str
    bindings: frozenset[AclBinding]


class Acls:
    """The ACL bindings of one deployment, by role."""

    def __init__(self, roles: dict[str, Role], *, source: Path) -> None:
        self._roles = roles
        self.source = source

    def __repr__(self) -> str:
        return f"<Acls {len(self._roles)} roles from {self.source}>"

    def role(self, name: str) -> Role:
        """One role by its name in the file."""
        try:
            return self._roles[name]
        except KeyError:
            raise ConfigError(f"role {name!r} is not declared in {self.source}") from None

    def __iter__(self) -> Iterator[Role]:
        return iter(self._roles.values())

    def principals(self) -> list[str]:
        """Every principal the file grants something, sorted."""
        return sorted({role.principal for role in self})

    def bindings(self) -> frozenset[AclBinding]:
        """Every binding of every role (roles sharing a principal share their bindings)."""
        return frozenset(b for role in self for b in role.bindings)


def load_acls(path: Path | None = None, *, topics: Topics) -> Acls:
    """Load and validate acls.yaml (the packaged one by default) against `topics`; ConfigError
    names the file and the first problem."""
    source = path or PACKAGED_ACLS_FILE
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else str(source)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    try:
        parsed = AclsFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe_errors(exc)}") from None
    roles = {
        name: Role(name, spec.principal, spec.description, _bindings(name, spec, topics, source))
        for name, spec in parsed.roles.items()
    }
    return Acls(roles, source=source)


def _bindings(name: str, spec: RoleSpec, topics: Topics, source: Path) -> frozenset[AclBinding]:
    """What one role needs: READ/WRITE on its topics, READ on its groups, WRITE on its
    transactional ids, and describing every declared topic when its process checks them."""
    for field, keys in (("reads", spec.reads), ("writes", spec.writes)):
        for key in keys:
            if key not in topics:
                raise ConfigError(
                    f"{source}: roles.{name}.{field}: topic {key!r} is not declared in "
                    f"{topics.source}"
                )

    def on_topic(key: str, operation: Operation) -> AclBinding:
        real = topics.name(key)
        return AclBinding(spec.principal, ResourceType.TOPIC, real, PatternType.LITERAL, operation)

    found = {on_topic(key, Operation.READ) for key in spec.reads}
    found |= {on_topic(key, Operation.WRITE) for key in spec.writes}
    if spec.checks_topics:
        declared, used = topics.keys(), {*spec.reads, *spec.writes}
        # READ and WRITE include DESCRIBE: only the other topics need it granted.
        found |= {on_topic(key, Operation.DESCRIBE) for key in declared if key not in used}
        found |= {on_topic(key, Operation.DESCRIBE_CONFIGS) for key in declared}
    # READ on a group: join it, commit and fetch offsets. WRITE on a transactional id: use it
    # (it includes DESCRIBE).
    for field, kind, operation, patterns in (
        ("groups", ResourceType.GROUP, Operation.READ, spec.groups),
        (
            "transactional_ids",
            ResourceType.TRANSACTIONAL_ID,
            Operation.WRITE,
            spec.transactional_ids,
        ),
    ):
        for pattern in patterns:
            real, pattern_type = expand_id(pattern, prefix=topics.prefix, app_id=topics.app_id)
            if not _LEGAL_ID.match(real):
                raise ConfigError(
                    f"{source}: roles.{name}.{field}: {real!r} is not a usable id "
                    "(check the topic prefix and app id)"
                )
            found.add(AclBinding(spec.principal, kind, real, pattern_type, operation))
    return frozenset(found)


def expand_id(pattern: str, *, prefix: str, app_id: str) -> tuple[str, PatternType]:
    """A group or transactional id of the file as a real name: (`{prefix}{app_id}-sink-*`,
    "t.", "wh") is ("t.wh-sink-", PREFIXED)."""
    pattern_type = PatternType.PREFIXED if pattern.endswith(PREFIX_MARK) else PatternType.LITERAL
    name = pattern.removesuffix(PREFIX_MARK).replace("{prefix}", prefix)
    return name.replace("{app_id}", app_id), pattern_type


# --- comparing with a broker -------------------------------------------------------------


@dataclass(frozen=True)
class AclDiff:
    """How a broker's bindings for the file's principals differ from the file's."""

    missing: tuple[AclBinding, ...]  # in the file, not on the broker
    extra: tuple[AclBinding, ...]  # on the broker for the file's principals, not in the file
    in_place: tuple[AclBinding, ...]  # in both


def diff_bindings(wanted: Iterable[AclBinding], actual: Iterable[AclBinding]) -> AclDiff:
    """Compare wanted bindings with a broker's; the broker's bindings of other principals
    (administrators, other applications) are not this file's business and are left out."""
    want = set(wanted)
    principals = {b.principal for b in want}
    have = {b for b in actual if b.principal in principals}
    return AclDiff(
        missing=tuple(sorted(want - have)),
        extra=tuple(sorted(have - want)),
        in_place=tuple(sorted(want & have)),
    )


def _describe_errors(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)
