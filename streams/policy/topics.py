"""The topics a bot capability can cover, and the trigger each one fires.

Its own module because both the policy models and the whole-document checks need it, and
the models import the checks.
"""

from __future__ import annotations

REVENUE_KINDS = ("purchase", "upgrade", "retention")
RISK_FAMILIES = ("payments", "cancellation", "identity", "fraud", "compliance")
TOPICS = REVENUE_KINDS + RISK_FAMILIES
"""Revenue kinds and risk families, as the detect stage reports them on `Signals`."""


def topic_trigger(topic: str) -> str:
    """The trigger a detected topic fires: `revenue_opportunity` or `risk.<family>`."""
    return "revenue_opportunity" if topic in REVENUE_KINDS else f"risk.{topic}"
