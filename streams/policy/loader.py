"""Read, validate and explain a policy file.

The file is plain data: it is parsed with PyYAML's safe loader (no tags that build Python
objects, no expressions), duplicate keys are errors rather than a silent last-one-wins,
and every problem is reported at once as `FILE: path.to.field: what is wrong` so CX
operations can fix a file in one go.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from warmhandoff.streams.policy.checks import ReferenceErrors, reference_problems, suggest
from warmhandoff.streams.policy.exceptions import PolicyError
from warmhandoff.streams.policy.model import Policy, Triggers

DEFAULT_SOURCE = "default.yaml"
MAX_POLICY_BYTES = 1_000_000  # a policy is a page of settings; anything larger is a mistake
# YAML aliases share one node many times: a few lines of nested aliases (a "billion laughs")
# expand to millions of values, and validating or quoting them takes minutes and gigabytes.
MAX_POLICY_VALUES = 100_000
MAX_POLICY_DEPTH = 32  # the policy's own structure is 6 levels deep
# Raw YAML leaves out triggers that keep their defaults; checks need to know which are mandatory.
_MANDATORY_BY_DEFAULT = frozenset(
    code for code, trigger in Triggers().by_code().items() if trigger.mandatory
)

__all__ = ["PolicyError", "load_policy", "parse_policy", "policy_check"]


def load_policy(path: Path | None = None) -> Policy:
    """Load and validate the policy at `path`, or the packaged default when None."""
    if path is None:
        text = resources.files(__package__).joinpath(DEFAULT_SOURCE).read_text("utf-8")
        return parse_policy(text, DEFAULT_SOURCE)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(source, [f"cannot read the file: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(source, [f"the file is larger than {MAX_POLICY_BYTES} bytes"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(source, [f"not UTF-8 text (byte {exc.start})"]) from None
    return parse_policy(text, source)


def parse_policy(text: str, source: str) -> Policy:
    """Validate policy YAML `text`; `source` names the file in error messages."""
    data = _parse_yaml(text, source)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems: list[str] = []
        references: list[str] = []
        for error in exc.errors():
            found = error.get("ctx", {}).get("error")
            if isinstance(found, ReferenceErrors):
                references = found.problems
            else:
                problems.append(_describe(error))
        # Policy checks references only once every field is valid; report them anyway.
        references = references or reference_problems(
            data, mandatory_by_default=_MANDATORY_BY_DEFAULT
        )
        raise PolicyError(source, problems + references) from None


def policy_check(path: Path) -> tuple[bool, str]:
    """Check a policy file for `warmhandoff policy check`: (ok, summary or every problem)."""
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        return False, str(exc)
    triggers = policy.triggers.by_code()
    enabled = [code for code, t in triggers.items() if t.enabled]
    mandatory = [code for code in enabled if triggers[code].mandatory]
    learned = policy.triggers.learned
    learned_state = learned.mode.value if learned.enabled else "off"
    flows = ", ".join(entry.name for entry in policy.bot_capabilities) or "none"
    # `self_service` still loads with its earlier meaning: name it so operators move it.
    earlier = ", ".join(entry.name for entry in policy.self_service)
    if earlier:
        earlier = f"; self_service (earlier form, see docs/policy.md): {earlier}"
    return True, (
        f"{path}: ok: policy version {policy.version}: {len(policy.rules)} rules, "
        f"{len(policy.queues)} queues, {len(enabled)} of {len(triggers)} triggers enabled "
        f"(mandatory: {', '.join(mandatory) or 'none'}; learned: {learned_state}; "
        f"bot capabilities: {flows}{earlier})"
    )


# --- YAML -------------------------------------------------------------------------------


class _PolicyYamlLoader(yaml.SafeLoader):
    """The safe loader, plus an error on duplicate keys (YAML would keep the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor`: merged keys may be overridden, that is the point
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark.line)
            except TypeError:
                continue  # an unhashable key: the safe loader reports it below
            if first != key_node.start_mark.line:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {first + 1})",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 reads `2026-12-25` as a date, and a date that does not exist (`2026-13-45`) makes
# PyYAML raise ValueError rather than a YAML error; no policy field is a date, so dates stay
# text (found by `python -m warmhandoff.streams.lab.fuzz`).
def _timestamp_as_text(loader: _PolicyYamlLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_PolicyYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)

_TAG = re.compile(r"constructor for the tag '([^']*)'")


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=_PolicyYamlLoader)  # a SafeLoader subclass: no Python objects
    except yaml.MarkedYAMLError as exc:
        raise PolicyError(source, [_yaml_problem(exc)]) from None
    except yaml.YAMLError as exc:
        # One line per problem: PyYAML's reader errors span two.
        raise PolicyError(source, [f"not valid YAML: {' '.join(str(exc).split())}"]) from None
    except RecursionError:
        # PyYAML's parser recurses per level: `[[[[...` a thousand deep exhausts the stack.
        raise PolicyError(source, ["(top level): nested too deeply to be a policy"]) from None
    if data is None:
        raise PolicyError(source, ["the file is empty"])
    size = _expanded_size(data, {}, 0)
    if size is None:
        raise PolicyError(source, [f"(top level): nested more than {MAX_POLICY_DEPTH} levels deep"])
    if size > MAX_POLICY_VALUES:
        raise PolicyError(
            source, [f"(top level): more than {MAX_POLICY_VALUES} values once aliases are expanded"]
        )
    if not isinstance(data, dict):
        raise PolicyError(
            source, [f"(top level): must be a mapping of policy sections, got {_kind(data)}"]
        )
    return data


def _expanded_size(value: object, seen: dict[int, int], depth: int) -> int | None:
    """How many values `value` holds with every alias expanded (a shared node counts each
    time it is used but is measured once: linear in the file, not in the expansion); None
    when it nests deeper than `MAX_POLICY_DEPTH`."""
    key = id(value)
    if key in seen:
        return seen[key]
    if depth > MAX_POLICY_DEPTH:
        return None
    seen[key] = 1  # a cycle (an alias inside its own anchor) counts once
    children: list[object] = []
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        children = value
    size = 1
    for child in children:
        found = _expanded_size(child, seen, depth + 1)
        if found is None:
            return None
        size += found
    seen[key] = size
    return size


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(unknown position)"
    problem = exc.problem or "invalid YAML"
    tag = _TAG.search(problem)
    if tag:
        problem = f"tag {tag.group(1)!r} is not allowed: a policy is plain data"
    elif isinstance(exc, yaml.constructor.ConstructorError) and "duplicate key" in problem:
        pass
    else:
        context = f" ({exc.context})" if exc.context else ""
        problem = f"YAML syntax error: {problem}{context}"
    return f"{where}: {problem}"


# --- pydantic errors --------------------------------------------------------------------


def _keys_at(loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed in the mapping that holds the field at `loc`."""
    annotation: object = Policy
    for part in loc[:-1]:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {f.alias or n: f for n, f in annotation.model_fields.items()}
            if not isinstance(part, str) or part not in fields:
                return []
            annotation = fields[part].annotation
        elif get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return []
    model = _unwrap(annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or n for n, f in model.model_fields.items()]
    return []


def _unwrap(annotation: object) -> object:
    """The type inside Annotated[...] and `X | None`."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _describe(error: ErrorDetails) -> str:
    """One pydantic error as `path: what is wrong`, in CX operations' words."""
    loc = error["loc"]
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx", {})
    if kind == "missing":
        what = "required field is missing"
    elif kind == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        what = f"unknown field{suggest(key, _keys_at(loc))}"
    elif kind in {"value_error", "assertion_error"}:
        what = str(ctx.get("error", error["msg"]))
    elif kind == "string_type":
        hint = "; YAML reads yes/no/on/off as true/false" if isinstance(value, bool) else ""
        what = f"must be text, got {_shown(value)} (quote it in YAML{hint})"
    elif kind in {"bool_type", "bool_parsing"}:
        what = f"must be true or false, got {_shown(value)}"
    elif kind in {"int_type", "int_parsing", "int_from_float"}:
        what = f"must be a whole number, got {_shown(value)}"
    elif kind in {"float_type", "float_parsing"}:
        what = f"must be a number, got {_shown(value)}"
    elif kind in {"list_type", "tuple_type"}:
        what = f"must be a list, got {_kind(value)}"
    elif kind in {"dict_type", "model_type", "model_attributes_type"}:
        what = f"must be a mapping, got {_kind(value)}"
    elif kind == "enum":
        expected = ctx.get("expected", "")
        what = f"must be one of {expected}, got {_shown(value)}"
    elif kind == "too_short":
        least = ctx.get("min_length", 1)
        what = f"must have at least {least} entr{'y' if least == 1 else 'ies'}"
    elif kind == "string_too_short":
        what = "must not be empty"
    elif kind in {"too_long", "string_too_long"}:
        what = f"is too long (at most {ctx.get('max_length')})"
    else:
        what = f"{error['msg']}, got {_shown(value)}"
    if len(loc) >= 2 and loc[-1] == "[key]":
        # pydantic reports a bad key by position-like value; show the key as YAML wrote it.
        key = str(value).lower() if isinstance(value, bool) else str(value)
        return f"{_path((*loc[:-2], key))} (key): {what}"
    return f"{_path(loc)}: {what}"


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            # A key with a line break or control character would split the one-line problem.
            name = str(part) if str(part).isprintable() else repr(str(part))
            path += f".{name}" if path else name
    return path or "(top level)"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: object) -> str:
    names = {dict: "a mapping", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), f"{type(value).__name__} {_shown(value)}")
