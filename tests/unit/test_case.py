"""The customer's case a handoff belongs to: topic from the triggers, a key shared per window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warmhandoff.streams.core.case import case_for, topic_of

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_the_topic_is_the_first_risk_family_then_sales_then_service() -> None:
    assert topic_of(["negative_sentiment", "risk.payments", "risk.fraud"]) == "payments"
    assert topic_of(["human_request", "revenue_opportunity"]) == "sales"
    assert topic_of(["human_request", "frustration"]) == "service"
    assert topic_of([]) == "service"


def test_one_customer_on_one_topic_within_the_window_shares_a_key() -> None:
    first = case_for("cust-1", ["risk.payments"], T0, 72, handoff_id="h1")
    again = case_for("cust-1", ["risk.payments", "human_request"], T0 + timedelta(hours=1), 72,
                     handoff_id="h2")  # fmt: skip
    assert first is not None and again is not None
    assert first.key == again.key and first.topic == "payments"


def test_another_topic_another_customer_or_a_zero_window_gives_another_key() -> None:
    base = case_for("cust-1", ["risk.payments"], T0, 72, handoff_id="h1")
    other_topic = case_for("cust-1", ["risk.cancellation"], T0, 72, handoff_id="h2")
    other_customer = case_for("cust-2", ["risk.payments"], T0, 72, handoff_id="h3")
    never = [case_for("cust-1", ["risk.payments"], T0, 0, handoff_id=h) for h in ("h4", "h5")]
    assert base is not None and other_topic is not None and other_customer is not None
    keys = {base.key, other_topic.key, other_customer.key, *(c.key for c in never if c)}
    assert len(keys) == 5


def test_no_customer_id_means_no_case_to_attach_to() -> None:
    assert case_for(None, ["risk.payments"], T0, 72, handoff_id="h1") is None
    assert case_for("", ["risk.payments"], T0, 72, handoff_id="h1") is None
