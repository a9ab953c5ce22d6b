"""Checks that need the whole policy document, not one field.

Names must refer to something declared (a rule's queue, an overflow, a language route),
rule and flow names must be unique, verified queues need a disclosure, a bot capability
cannot hold back a mandatory trigger or topic, nor the triggers that hand a flow off. These
run on the raw YAML data, tolerating any shape, so the loader can report them together with
schema errors in one pass; `Policy` runs them again on validated data so no inconsistent
policy can exist.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping

from warmhandoff.streams.policy.topics import TOPICS, topic_trigger


class ReferenceErrors(ValueError):
    """Raised by `Policy` validation; carries the problems `reference_problems` found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def suggest(word: str, choices: Iterable[str]) -> str:
    """A ` (did you mean 'x'?)` hint for a misspelt name, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def reference_problems(
    data: Mapping[str, object], *, mandatory_by_default: Collection[str] = ()
) -> list[str]:
    """Every cross-reference problem in a policy document, each as `path: what is wrong`.

    `mandatory_by_default`: the trigger codes mandatory when the document does not say,
    for raw YAML (validated data states `mandatory` for every trigger).
    """
    problems = _capability_problems(data, mandatory_by_default)
    queues = _mapping(data.get("queues"))

    def refer(path: str, name: object) -> None:
        if isinstance(name, str) and name not in queues:
            known = [str(q) for q in queues]
            hint = suggest(name, known) or (f" (queues: {', '.join(known)})" if known else "")
            problems.append(f"{path}: unknown queue {name!r}{hint}")

    first_at: dict[str, int] = {}
    for i, rule in _items(data.get("rules")):
        name = rule.get("name")
        if isinstance(name, str):
            if name in first_at:
                first = first_at[name]
                problems.append(
                    f"rules[{i}].name: duplicate rule name {name!r} (first at rules[{first}])"
                )
            first_at.setdefault(name, i)
        refer(f"rules[{i}].queue", rule.get("queue"))
        problems.extend(_condition_problems(f"rules[{i}].when", rule.get("when")))
    for i, boost in _items(data.get("priority_boosts")):
        problems.extend(_condition_problems(f"priority_boosts[{i}].when", boost.get("when")))

    for name, queue in queues.items():
        if not isinstance(queue, Mapping):
            continue
        overflow = queue.get("overflow")
        if overflow == name:
            problems.append(f"queues.{name}.overflow: a queue cannot overflow to itself")
        else:
            refer(f"queues.{name}.overflow", overflow)
        for j, step in _items(queue.get("relax")):
            widen = step.get("widen_to")
            if widen == name:
                problems.append(
                    f"queues.{name}.relax[{j}].widen_to: a queue cannot widen to itself"
                )
                continue
            refer(f"queues.{name}.relax[{j}].widen_to", widen)
            target = _mapping(queues.get(widen) if isinstance(widen, str) else None)
            if queue.get("verified") is True and target and target.get("verified") is not True:
                problems.append(
                    f"queues.{name}.relax[{j}].widen_to: {widen!r} is not verified; a verified "
                    "queue widens only to verified queues"
                )
        if queue.get("verified") is True and not queue.get("disclosure"):
            problems.append(
                f"queues.{name}.disclosure: required because the queue is verified "
                "(the text the customer sees before the transfer)"
            )
    problems.extend(_overflow_loops(queues))

    refer("defaults.queue", _mapping(data.get("defaults")).get("queue"))
    for language, name in _mapping(data.get("language_routing")).items():
        if not isinstance(language, str):
            continue  # a schema error (YAML read `no` as false)
        refer(f"language_routing.{language}", name)
        languages = _mapping(queues.get(name) if isinstance(name, str) else None).get("languages")
        if isinstance(languages, list) and languages and language not in languages:
            problems.append(
                f"language_routing.{language}: queue {name!r} does not list {language!r} "
                "in its languages"
            )
    return problems


# How a flow hands off: these triggers are the customer insisting or the bot failing, so a
# flow that held them back would keep a customer the bot cannot serve.
_ENDS_A_HOLD = {
    "human_request": "the customer asking for a human",
    "frustration": "a frustrated customer",
    "system_boundary": "the bot's failed action",
}
_SECTIONS = (("bot_capabilities", "flow"), ("self_service", "self-service"))


def _capability_problems(
    data: Mapping[str, object], mandatory_by_default: Collection[str]
) -> list[str]:
    """Problems in `bot_capabilities` and its earlier form `self_service`, checked together."""
    triggers = _mapping(data.get("triggers"))

    def mandatory(code: str) -> bool:
        if code == "learned":
            return False  # no `mandatory` setting: it never overrides one
        flag = _mapping(triggers.get(code)).get("mandatory")
        return flag if isinstance(flag, bool) else code in mandatory_by_default

    problems: list[str] = []
    first_named: dict[str, str] = {}
    first_listed: dict[str, str] = {}  # intent, lower case -> the entry listing it
    for section, kind in _SECTIONS:
        for i, entry in _items(data.get(section)):
            at = f"{section}[{i}]"
            name = entry.get("name")
            if isinstance(name, str):
                if name in first_named:
                    problems.append(
                        f"{at}.name: duplicate {kind} name {name!r} (first at {first_named[name]})"
                    )
                first_named.setdefault(name, at)
            for j, intent in _strings(entry.get("intents")):
                first = first_listed.setdefault(intent.lower(), at)
                if first != at:
                    problems.append(
                        f"{at}.intents[{j}]: intent {intent!r} is already in {first} "
                        "(list each intent in one entry)"
                    )
            for j, code in _strings(entry.get("defer")):
                if mandatory(code):
                    problems.append(
                        f"{at}.defer[{j}]: cannot defer a mandatory trigger: {code} is "
                        "mandatory in this policy, and mandatory triggers always fire"
                    )
                elif section == "bot_capabilities" and code in _ENDS_A_HOLD:
                    problems.append(
                        f"{at}.defer[{j}]: cannot defer {code}: {_ENDS_A_HOLD[code]} hands "
                        "the flow to a human"
                    )
            if section != "bot_capabilities":
                continue
            for j, topic in _strings(entry.get("topics")):
                code = topic_trigger(topic)
                if topic in TOPICS and code != "revenue_opportunity" and mandatory(code):
                    problems.append(
                        f"{at}.topics[{j}]: cannot cover {topic}: {code} is mandatory in this "
                        "policy, and mandatory triggers always fire"
                    )
    return problems


def _condition_problems(path: str, when: object) -> list[str]:
    when = _mapping(when)
    codes, least = when.get("any"), when.get("min_triggers")
    if isinstance(codes, list) and codes and isinstance(least, int) and least > len(codes):
        return [
            f"{path}.min_triggers: {least} can never match, `any` lists only {len(codes)} "
            f"trigger{'s' if len(codes) > 1 else ''}"
        ]
    return []


def _overflow_loops(queues: Mapping[object, object]) -> list[str]:
    def overflow_of(name: object) -> object:
        return _mapping(queues.get(name)).get("overflow")

    problems: list[str] = []
    reported: set[object] = set()
    for start in queues:
        chain, name = [start], overflow_of(start)
        # `overflow` may be any YAML value here (a list is unhashable): only names are followed.
        while isinstance(name, str) and name in queues and name not in chain and name != start:
            chain.append(name)
            name = overflow_of(name)
        # Self-overflow is reported on its own; report each longer loop once.
        if name == start and len(chain) > 1 and not reported.intersection(chain):
            reported.update(chain)
            loop = " -> ".join(str(q) for q in [*chain, start])
            problems.append(f"queues.{start}.overflow: overflow loops back: {loop}")
    return problems


def _mapping(value: object) -> Mapping[object, object]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: object) -> list[tuple[int, str]]:
    """The text items of a list, with their positions (anything else is a schema error)."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, str)]


def _items(value: object) -> list[tuple[int, Mapping[object, object]]]:
    """The mappings in a list, with their positions (anything else is a schema error)."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, Mapping)]
