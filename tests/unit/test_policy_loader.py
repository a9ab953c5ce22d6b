"""The policy file: the shipped default loads, and every kind of mistake is named precisely."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from warmhandoff.streams.policy import (
    TRIGGER_CODES,
    Policy,
    PolicyError,
    load_policy,
    parse_policy,
    policy_check,
)
from warmhandoff.streams.policy.hours import parse_hours

DEFAULT_FILE = Path(__file__).parents[2] / "streams" / "policy" / "default.yaml"

BASE: dict[str, Any] = {
    "version": "t1",
    "queues": {
        "general": {"skills": ["care"], "languages": ["en"]},
        "payments": {"skills": ["payments"], "verified": True, "disclosure": "Recorded."},
    },
    "rules": [
        {"name": "payments", "when": {"any": ["risk.payments"]}, "queue": "payments", "priority": 2}
    ],
    "defaults": {"queue": "general"},
}


PASSWORD: dict[str, Any] = {
    "name": "password_reset",
    "intents": ["password_reset", "forgot_password"],
    "min_confidence": 0.8,
    "defer": ["risk.identity"],
}


def problems_of(data: dict[str, Any] | str) -> list[str]:
    """The error lines of a policy that must fail, without the file prefix."""
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "policy.yaml")
    lines = str(caught.value).splitlines()
    assert all(line.startswith("policy.yaml: ") for line in lines)
    assert list(caught.value.problems) == [line.removeprefix("policy.yaml: ") for line in lines]
    return list(caught.value.problems)


def changed(**sections: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(sections)
    return data


# --- the shipped default ----------------------------------------------------------------


def test_default_policy_loads_and_matches_the_file() -> None:
    policy = load_policy()
    assert policy == load_policy(DEFAULT_FILE)
    assert policy.version
    assert policy.defaults.queue in policy.queues


def test_default_policy_routes_every_escalating_family_by_a_rule() -> None:
    policy = load_policy()
    named = {code for rule in policy.rules for code in (*rule.when.any, *rule.when.all)}
    assert set(TRIGGER_CODES) <= named | {"churn_risk"}  # churn only boosts priority
    for family in ("compliance", "payments", "cancellation", "identity", "fraud"):
        rule = next(r for r in policy.rules if f"risk.{family}" in r.when.any)
        queue = policy.queues[rule.queue]
        assert queue.verified and queue.disclosure, family


def test_default_policy_mandatory_and_effect_defaults() -> None:
    triggers = load_policy().triggers.by_code()
    assert triggers["human_request"].mandatory
    assert triggers["risk.compliance"].mandatory
    assert triggers["vip"].effect == "priority"
    assert triggers["churn_risk"].effect == "priority"
    assert load_policy().triggers.learned.mode == "shadow"


def test_omitted_triggers_keep_their_builtin_defaults() -> None:
    policy = parse_policy(yaml.safe_dump(BASE), "p.yaml")
    by_code = policy.triggers.by_code()
    assert set(by_code) | {"learned"} == set(TRIGGER_CODES)
    assert by_code["risk.compliance"].mandatory and not by_code["risk.payments"].mandatory
    # Writing part of a block must not drop the trigger's own defaults.
    partial = parse_policy(
        yaml.safe_dump(changed(triggers={"risk.compliance": {"enabled": True}})), "p.yaml"
    )
    assert partial.triggers.by_code()["risk.compliance"].mandatory


def test_policy_check_summarises_a_good_file() -> None:
    ok, message = policy_check(DEFAULT_FILE)
    policy = load_policy()
    assert ok
    assert f"version {policy.version}" in message
    assert f"{len(policy.rules)} rules" in message
    assert f"{len(policy.queues)} queues" in message


def test_policy_check_lists_every_problem_of_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    data = changed(defaults={"queue": "genral", "priority": 9})
    bad.write_text(yaml.safe_dump(data))
    ok, message = policy_check(bad)
    assert not ok
    assert message.splitlines() == [
        f"{bad}: defaults.priority: must be between 1 and 5, got 9",
        f"{bad}: defaults.queue: unknown queue 'genral' (did you mean 'general'?)",
    ]


# --- field errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        (
            {"triggers": {"negative_sentiment": {"threshold": 3}}},
            "triggers.negative_sentiment.threshold: must be between -1 and 1, got 3",
        ),
        (
            {"triggers": {"frustration": {"treshold": 0.5}}},
            "triggers.frustration.treshold: unknown field (did you mean 'threshold'?)",
        ),
        (
            {"triggers": {"risk.payment": {}}},
            "triggers.risk.payment: unknown field (did you mean 'risk.payments'?)",
        ),
        (
            {"triggers": {"vip": {"effect": "boost"}}},
            "triggers.vip.effect: must be one of 'escalate' or 'priority', got 'boost'",
        ),
        (
            {"triggers": {"low_confidence": {"clarify_first": "perhaps"}}},
            "triggers.low_confidence.clarify_first: must be true or false, got 'perhaps'",
        ),
        (
            {"triggers": {"system_boundary": {"statuses": ["ok", "failed"]}}},
            "triggers.system_boundary: statuses: 'ok' is not a system boundary",
        ),
        (
            {"triggers": {"learned": {"mode": "active", "threshold": 0.5, "suppress_below": 0.6}}},
            "triggers.learned: suppress_below (0.6) must be below threshold (0.5)",
        ),
        (
            {"triggers": {"learned": {"mandatory": True}}},
            "triggers.learned.mandatory: unknown field",
        ),
        (
            {"rules": [{"name": "r", "queue": "general", "priority": 7}]},
            "rules[0].priority: must be between 1 and 5, got 7",
        ),
        (
            {"rules": [{"name": "r", "queue": "general", "priority": 2.5}]},
            "rules[0].priority: must be a whole number, got 2.5",
        ),
        (
            {"rules": [{"name": "Bad Name", "queue": "general", "priority": 1}]},
            "rules[0].name: 'Bad Name' is not a valid name (lower case, digits, _)",
        ),
        (
            {"rules": [{"name": "r", "queue": "general"}]},
            "rules[0].priority: required field is missing",
        ),
        (
            {
                "rules": [
                    {"name": "r", "queue": "general", "priority": 1, "when": {"any": ["vipp"]}}
                ]
            },
            "rules[0].when.any[0]: unknown trigger 'vipp' (did you mean 'vip'?)",
        ),
        (
            {
                "rules": [
                    {"name": "r", "queue": "general", "priority": 1, "when": {"channels": ["fax"]}}
                ]
            },
            "rules[0].when.channels[0]: must be one of 'chat', 'voice', 'email', 'sms' or "
            "'social', got 'fax'",
        ),
        (
            {"priority_boosts": [{"when": {"any": ["vip"]}, "by": 0}]},
            "priority_boosts[0].by: must be between 1 and 4, got 0",
        ),
        (
            {"queues": {"general": {"skills": []}}, "rules": []},
            "queues.general.skills: must have at least 1 entry",
        ),
        (
            {"queues": {"general": {"skills": ["a"], "sla": {"target": 80, "seconds": 20}}}},
            "queues.general.sla.target: must be above 0 and at most 1, got 80",
        ),
        (
            {"queues": {"general": {"skills": ["a"], "languages": ["english"]}}},
            "queues.general.languages[0]: 'english' is not a valid ISO 639-1 language code "
            "such as 'es'",
        ),
        (
            {"queues": {"general": {"skills": ["a"], "hours": "mon-fri 08:00-20:00 Mars/Base"}}},
            "queues.general.hours: unknown time zone 'Mars/Base' (use an IANA name such as "
            "Europe/London)",
        ),
        (
            {"queues": {"general": {"skills": ["a"], "hours": "mon-fri 20:00-08:00 UTC"}}},
            "queues.general.hours: 'mon-fri 20:00-08:00': the end must be after the start "
            "(split overnight hours into two windows)",
        ),
        (
            {"self_service": [{**PASSWORD, "defer": ["risk.identiy"]}]},
            "self_service[0].defer[0]: unknown trigger 'risk.identiy' "
            "(did you mean 'risk.identity'?)",
        ),
        (
            {"self_service": [{**PASSWORD, "intents": []}]},
            "self_service[0].intents: must have at least 1 entry",
        ),
        (
            {"self_service": [{**PASSWORD, "defer": []}]},
            "self_service[0].defer: must have at least 1 entry",
        ),
        (
            {"self_service": [{**PASSWORD, "min_confidence": 1.5}]},
            "self_service[0].min_confidence: must be between 0 and 1, got 1.5",
        ),
        (
            {"self_service": [{**PASSWORD, "min_confidence": -0.1}]},
            "self_service[0].min_confidence: must be between 0 and 1, got -0.1",
        ),
        (
            {"self_service": [{k: v for k, v in PASSWORD.items() if k != "min_confidence"}]},
            "self_service[0].min_confidence: required field is missing",
        ),
        (
            {"self_service": [{**PASSWORD, "intent": ["x"]}]},
            "self_service[0].intent: unknown field (did you mean 'intents'?)",
        ),
        (
            {"self_service": {"password_reset": PASSWORD}},
            "self_service: must be a list, got a mapping",
        ),
        ({"version": 1.1}, "version: must be text, got 1.1 (quote it in YAML)"),
        ({"defaults": {}}, "defaults.queue: required field is missing"),
        ({"queues": []}, "queues: must be a mapping, got a list"),
        ({"surprise": 1}, "surprise: unknown field"),
    ],
)
def test_field_error_names_the_exact_path(sections: dict[str, Any], expected: str) -> None:
    assert expected in problems_of(changed(**sections))


def test_yaml_boolean_keys_are_explained() -> None:
    text = yaml.safe_dump(BASE) + "language_routing:\n  no: general\n"
    assert problems_of(text) == [
        "language_routing.false (key): must be text, got False "
        "(quote it in YAML; YAML reads yes/no/on/off as true/false)"
    ]


def test_every_problem_is_reported_at_once() -> None:
    data = changed(
        triggers={"frustration": {"threshold": 2}},
        defaults={"queue": "nowhere"},
        rules=[
            {"name": "a", "queue": "general", "priority": 9},
            {"name": "a", "queue": "missing", "priority": 1},
        ],
    )
    assert problems_of(data) == [
        "triggers.frustration.threshold: must be between 0 and 1, got 2",
        "rules[0].priority: must be between 1 and 5, got 9",
        "rules[1].name: duplicate rule name 'a' (first at rules[0])",
        "rules[1].queue: unknown queue 'missing' (queues: general, payments)",
        "defaults.queue: unknown queue 'nowhere' (queues: general, payments)",
    ]


# --- cross-references -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        (
            {"rules": [{"name": "r", "queue": "paymnts", "priority": 1}]},
            "rules[0].queue: unknown queue 'paymnts' (did you mean 'payments'?)",
        ),
        (
            {
                "rules": [
                    {"name": "r", "queue": "general", "priority": 1},
                    {"name": "r", "queue": "general", "priority": 2},
                ]
            },
            "rules[1].name: duplicate rule name 'r' (first at rules[0])",
        ),
        (
            {
                "rules": [
                    {
                        "name": "r",
                        "queue": "general",
                        "priority": 1,
                        "when": {"any": ["vip"], "min_triggers": 2},
                    }
                ]
            },
            "rules[0].when.min_triggers: 2 can never match, `any` lists only 1 trigger",
        ),
        (
            {"queues": {"general": {"skills": ["a"], "overflow": "spare"}}, "rules": []},
            "queues.general.overflow: unknown queue 'spare' (queues: general)",
        ),
        (
            {"queues": {"general": {"skills": ["a"], "overflow": "general"}}, "rules": []},
            "queues.general.overflow: a queue cannot overflow to itself",
        ),
        (
            {
                "queues": {
                    "general": {"skills": ["a"], "overflow": "b"},
                    "b": {"skills": ["a"], "overflow": "general"},
                },
                "rules": [],
            },
            "queues.general.overflow: overflow loops back: general -> b -> general",
        ),
        (
            {"queues": {"general": {"skills": ["a"], "verified": True}}, "rules": []},
            "queues.general.disclosure: required because the queue is verified (the text the "
            "customer sees before the transfer)",
        ),
        (
            {"language_routing": {"es": "espanol"}},
            "language_routing.es: unknown queue 'espanol' (queues: general, payments)",
        ),
        (
            {"language_routing": {"es": "general"}},
            "language_routing.es: queue 'general' does not list 'es' in its languages",
        ),
        (
            {
                "priority_boosts": [{"when": {"all": ["vip", "churn_rsk"]}}],
            },
            "priority_boosts[0].when.all[1]: unknown trigger 'churn_rsk' "
            "(did you mean 'churn_risk'?)",
        ),
    ],
)
def test_cross_reference_errors(sections: dict[str, Any], expected: str) -> None:
    assert expected in problems_of(changed(**sections))


# --- self-service -----------------------------------------------------------------------


def held(policy: Policy, intent: str) -> tuple[float | None, frozenset[str]]:
    """The confidence a flow's intent needs, and the triggers its turns hold back."""
    flow = policy.compiled.flows_by_intent[intent]
    return flow.min_confidence, flow.held


def test_self_service_loads_in_order_and_compiles_intents_case_insensitively() -> None:
    billing = {
        "name": "billing",
        "intents": ["Update_Card"],
        "min_confidence": 0.9,
        "defer": ["risk.payments", "low_confidence"],
    }
    policy = parse_policy(yaml.safe_dump(changed(self_service=[PASSWORD, billing])), "p.yaml")
    assert [entry.name for entry in policy.self_service] == ["password_reset", "billing"]
    assert set(policy.compiled.flows_by_intent) == {
        "password_reset",
        "forgot_password",
        "update_card",
    }
    assert held(policy, "forgot_password") == (0.8, frozenset({"risk.identity"}))
    assert held(policy, "update_card") == (0.9, frozenset({"risk.payments", "low_confidence"}))
    assert not any(flow.hands_off for flow in policy.compiled.flows_by_intent.values())
    assert parse_policy(yaml.safe_dump(BASE), "p.yaml").compiled.flows_by_intent == {}


def test_the_default_policy_lets_the_bot_try_password_resets() -> None:
    policy = load_policy()
    assert policy.self_service == []
    entry = next(e for e in policy.bot_capabilities if e.name == "password_reset")
    assert entry.defer == ["risk.identity"]
    assert entry.topics == []  # by intent only: identity in the text is wider than a reset
    assert entry.min_confidence == 0.8
    assert {"password_reset", "reset_password", "forgot_password"} <= set(entry.intents)
    ok, message = policy_check(DEFAULT_FILE)
    assert ok and "bot capabilities: purchase, password_reset, refund_status)" in message


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        (
            {"self_service": [{**PASSWORD, "defer": ["human_request"]}]},
            "self_service[0].defer[0]: cannot defer a mandatory trigger: human_request is "
            "mandatory in this policy, and mandatory triggers always fire",
        ),
        (
            {"self_service": [{**PASSWORD, "defer": ["risk.identity", "risk.compliance"]}]},
            "self_service[0].defer[1]: cannot defer a mandatory trigger: risk.compliance is "
            "mandatory in this policy, and mandatory triggers always fire",
        ),
        (
            {
                "triggers": {"risk.identity": {"mandatory": True}},
                "self_service": [PASSWORD],
            },
            "self_service[0].defer[0]: cannot defer a mandatory trigger: risk.identity is "
            "mandatory in this policy, and mandatory triggers always fire",
        ),
        (
            {"self_service": [PASSWORD, {**PASSWORD, "intents": ["other"]}]},
            "self_service[1].name: duplicate self-service name 'password_reset' "
            "(first at self_service[0])",
        ),
        (
            {"self_service": [PASSWORD, {**PASSWORD, "name": "b", "intents": ["Forgot_Password"]}]},
            "self_service[1].intents[0]: intent 'Forgot_Password' is already in "
            "self_service[0] (list each intent in one entry)",
        ),
    ],
)
def test_self_service_cross_reference_errors(sections: dict[str, Any], expected: str) -> None:
    assert problems_of(changed(**sections)) == [expected]


def test_a_trigger_made_optional_by_the_policy_can_be_deferred() -> None:
    data = changed(
        triggers={"risk.compliance": {"mandatory": False}},
        self_service=[{**PASSWORD, "defer": ["risk.compliance"]}],
    )
    policy = parse_policy(yaml.safe_dump(data), "p.yaml")
    assert held(policy, "password_reset") == (0.8, frozenset({"risk.compliance"}))


def test_mandatory_deferral_is_reported_alongside_field_errors() -> None:
    # Field errors stop `Policy` before its own checks; the loader checks the raw YAML,
    # where triggers left out are mandatory by their built-in defaults.
    data = changed(
        defaults={"queue": "general", "priority": 0},
        self_service=[{**PASSWORD, "defer": ["human_request"], "min_confidence": 2}],
    )
    assert problems_of(data) == [
        "self_service[0].min_confidence: must be between 0 and 1, got 2",
        "defaults.priority: must be between 1 and 5, got 0",
        "self_service[0].defer[0]: cannot defer a mandatory trigger: human_request is "
        "mandatory in this policy, and mandatory triggers always fire",
    ]
    with pytest.raises(ValidationError, match="cannot defer a mandatory trigger: human_request"):
        Policy.model_validate(changed(self_service=[{**PASSWORD, "defer": ["human_request"]}]))


def test_reference_errors_are_reported_alongside_field_errors() -> None:
    data = changed(rules=[{"name": "r", "queue": "nowhere", "priority": 0}])
    assert problems_of(data) == [
        "rules[0].priority: must be between 1 and 5, got 0",
        "rules[0].queue: unknown queue 'nowhere' (queues: general, payments)",
    ]


def test_an_inconsistent_policy_cannot_be_built_in_code_either() -> None:
    with pytest.raises(ValidationError, match="unknown queue 'nowhere'"):
        Policy.model_validate(changed(defaults={"queue": "nowhere"}))


# --- YAML -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object:builtins.object {{}}",
        "!!python/name:os.system",
        "!env SECRET",
    ],
)
def test_yaml_tags_are_rejected_without_running_anything(tagged: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"version: '1'\ndescription: {tagged.format(marker=marker)}\n"
    (problem,) = problems_of(text)
    assert problem.startswith("line 2, column 14: tag ")
    assert problem.endswith("is not allowed: a policy is plain data")
    assert not marker.exists()


def test_yaml_syntax_error_has_line_and_column() -> None:
    text = "version: '1'\nqueues:\n  general: {skills: [a]\ndefaults: {queue: general}\n"
    (problem,) = problems_of(text)
    assert problem.startswith("line 4, column 1: YAML syntax error: ")


def test_duplicate_keys_are_errors() -> None:
    text = "version: '1'\nqueues:\n  g: {skills: [a]}\n  g: {skills: [b]}\n"
    assert problems_of(text) == ["line 4, column 3: duplicate key 'g' (first on line 3)"]


def test_anchors_and_merge_keys_still_work() -> None:
    text = (
        "version: '1'\n"
        "queues:\n"
        "  general: &base {skills: [a], sla: {target: 0.9, seconds: 10}}\n"
        "  other:\n    <<: *base\n    skills: [b]\n"
        "defaults: {queue: general}\n"
    )
    policy = parse_policy(text, "p.yaml")
    assert policy.queues["other"].skills == ["b"]
    assert policy.queues["other"].sla.seconds == 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("- a\n- b\n", "(top level): must be a mapping of policy sections, got a list"),
        ("just text\n", "(top level): must be a mapping of policy sections, got text"),
    ],
)
def test_not_a_policy_document(text: str, expected: str) -> None:
    assert problems_of(text) == [expected]


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"missing\.yaml: cannot read the file: "):
        load_policy(tmp_path / "missing.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("description: caf\xe9\n".encode("latin-1"))
    with pytest.raises(PolicyError, match=r"latin\.yaml: not UTF-8 text \(byte 16\)"):
        load_policy(latin)


# --- business hours ---------------------------------------------------------------------


def test_hours_open_and_closed_in_the_queue_time_zone() -> None:
    hours = parse_hours("mon-fri 08:00-20:00, sat 09:00-13:00 Europe/London")
    # 2026-11-25 is a Wednesday; London is on UTC in November.
    assert hours.is_open(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 11, 25, 20, 0, tzinfo=UTC))
    assert hours.is_open(datetime(2026, 11, 28, 12, 59, tzinfo=UTC))  # Saturday
    assert not hours.is_open(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))  # Sunday
    # British Summer Time: 07:30 UTC is 08:30 in London.
    assert hours.is_open(datetime(2026, 7, 1, 7, 30, tzinfo=UTC))


def test_hours_wrapping_day_ranges_and_always_open() -> None:
    weekend = parse_hours("fri-mon 00:00-24:00 UTC")
    assert [w.day for w in weekend.windows] == [4, 5, 6, 0]
    assert parse_hours("24/7").is_open(datetime(2026, 1, 1, 3, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mon-fri 08:00-20:00", "the time zone is missing at the end"),
        ("weekdays 08:00-20:00 UTC", "invalid days 'weekdays'"),
        ("mon 08:00-25:00 UTC", "invalid time '25:00'"),
        ("mon 08:61-09:00 UTC", "invalid time '08:61'"),
        ("mon 9-17 UTC", "expected 'DAYS HH:MM-HH:MM', got 'mon 9-17'"),
        ("always", "expected 'DAYS HH:MM-HH:MM[, ...] TIME/ZONE' or '24/7'"),
    ],
)
def test_hours_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_hours(text)
