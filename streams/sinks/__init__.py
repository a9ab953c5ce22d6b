"""CRM sinks: consumers of `handoff.requests` that deliver each handoff to a desk.

`warmhandoff sink KIND` runs one kind per process (webhook, salesforce, file). Each kind is a
class with `deliver(request) -> DeliveryResult`, idempotent on `handoff_id`; `runner.py`
consumes the topic, retries, reports delivered or failed on `handoff.events` and dead-letters
what it gives up on.
"""
