"""Outcome labels (streams/learning/labels.py): one test per rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warmhandoff.streams.learning.labels import Label, LabelRules, Outcome, is_positive, label

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=2)


def escalated(handle_seconds: float, **extra: object) -> Outcome:
    accepted = T0 + timedelta(seconds=60)
    return Outcome(
        escalated=True,
        last_turn_at=T0,
        accepted_at=accepted,
        resolved_at=accepted + timedelta(seconds=handle_seconds),
        **extra,  # type: ignore[arg-type]
    )


def test_a_long_resolution_is_needed_and_a_quick_one_avoidable() -> None:
    assert label(escalated(900), now=LATER) is Label.escalation_needed
    assert label(escalated(90), now=LATER) is Label.escalation_avoidable
    assert label(escalated(121), now=LATER, rules=LabelRules(quick_seconds=120)) is (
        Label.escalation_needed
    )


def test_a_plain_answer_reason_or_a_handback_is_avoidable() -> None:
    assert label(escalated(900, resolution_reason="FAQ"), now=LATER) is Label.escalation_avoidable
    handed_back = Outcome(escalated=True, last_turn_at=T0, handed_back=True)
    assert label(handed_back, now=LATER) is Label.escalation_avoidable


def test_repeats_repeated_requests_or_peak_frustration_make_a_needed_escalation_late() -> None:
    assert label(escalated(900, repeats_before_handoff=2), now=LATER) is Label.escalation_late
    assert label(escalated(900, human_requests_before_handoff=2), now=LATER) is (
        Label.escalation_late
    )
    assert label(escalated(900, peak_frustration_before_handoff=0.9), now=LATER) is (
        Label.escalation_late
    )
    # ... but a quick resolution stays avoidable whatever happened before.
    assert label(escalated(30, repeats_before_handoff=3), now=LATER) is (Label.escalation_avoidable)


def test_an_unresolved_or_unserved_escalation_has_no_label_yet() -> None:
    open_ = Outcome(escalated=True, last_turn_at=T0, accepted_at=T0)
    assert label(open_, now=LATER) is None
    assert label(escalated(900, ended_unserved=True), now=LATER) is None


def test_containment_is_bad_on_a_return_within_24_hours_or_a_low_csat() -> None:
    back = Outcome(escalated=False, last_turn_at=T0, returned_at=T0 + timedelta(hours=23))
    assert label(back, now=T0 + timedelta(hours=23)) is Label.bad_containment
    low = Outcome(escalated=False, last_turn_at=T0, csat=2)
    assert label(low, now=T0 + timedelta(minutes=5)) is Label.bad_containment
    late_return = Outcome(escalated=False, last_turn_at=T0, returned_at=T0 + timedelta(hours=30))
    assert label(late_return, now=LATER) is Label.good_containment


def test_good_containment_waits_for_the_return_window_to_close() -> None:
    quiet = Outcome(escalated=False, last_turn_at=T0, csat=5)
    assert label(quiet, now=T0 + timedelta(hours=23, minutes=59)) is None
    assert label(quiet, now=T0 + timedelta(hours=24)) is Label.good_containment


def test_positives_are_the_labels_that_say_a_human_was_needed() -> None:
    positives = {found for found in Label if is_positive(found)}
    assert positives == {
        Label.escalation_needed,
        Label.escalation_late,
        Label.bad_containment,
    }
