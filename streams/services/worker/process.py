"""`warmhandoff worker`: check the topics, then run the Faust worker until stopped.

The worker never starts a broker and never creates topics: it starts like every process
(streams/services/startup.py) and refuses to run, with a one-line reason, when the broker does
not answer or the topics drift from topics.yaml. SIGTERM and SIGINT stop it cleanly (Faust
drains the stream and commits before exit).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import faust
import structlog

from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.detect.text_classifier import use_embeddings
from warmhandoff.streams.policy.loader import load_policy
from warmhandoff.streams.runtime.broker import cluster_id, is_embedded
from warmhandoff.streams.runtime.intake import Credentials, Intake, RateLimiter
from warmhandoff.streams.runtime.state_owner import claim_state
from warmhandoff.streams.services.startup import begin, new_event_loop, require_topics, start_ops

if TYPE_CHECKING:
    from warmhandoff.streams.services.worker.app import Pipeline

log = structlog.get_logger(__name__)


def _intake(settings: WorkerSettings, pipeline: Pipeline) -> Intake | None:
    """The HTTP intake of lifecycle events, when a token or an HMAC secret is configured."""
    credentials = Credentials(settings.intake_token, settings.intake_hmac_secret)
    if not credentials.configured:
        return None
    return Intake(
        credentials,
        pipeline.publish_events,
        pipeline.readiness,
        max_body_bytes=settings.intake_max_body_bytes,
        limiter=RateLimiter(settings.intake_rate_per_second, settings.intake_burst),
    )


def run_worker(settings: WorkerSettings) -> int:
    """Run the pipeline worker in the foreground; the exit status is returned."""
    from warmhandoff.streams.runtime.transport import fetch_wait_ms
    from warmhandoff.streams.services.worker.app import Pipeline

    policy = load_policy(settings.policy_file)
    # Before anything connects: without the embeddings extra this refuses in one line.
    use_embeddings(settings.text_embeddings)
    topics = begin(settings)
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(require_topics(topics, settings))
    cluster = loop.run_until_complete(cluster_id(settings))
    embedded = is_embedded(cluster)
    if settings.store.startswith("rocksdb"):
        claim_state(settings.data_dir, cluster, embedded=embedded)
    check = settings.recovery_consistency_check
    if check == "auto":
        check = "off" if embedded else "on"
    wait = fetch_wait_ms(settings.fetch_max_wait_ms, embedded=embedded)
    settings = settings.model_copy(update={"fetch_max_wait_ms": wait})
    pipeline = Pipeline(settings, topics, policy, consistency_check=check == "on")
    log.info(
        "worker.starting",
        app_id=settings.app_id,
        policy_version=policy.version,
        bootstrap=settings.bootstrap_servers,
        text_embeddings=settings.text_embeddings,
        fetch_max_wait_ms=wait or "faust",
    )
    loop.run_until_complete(
        start_ops(settings, pipeline.readiness, intake=_intake(settings, pipeline))
    )
    worker = faust.Worker(
        pipeline.app,
        loop=loop,
        loglevel=settings.log_level,
        override_logging=False,
        redirect_stdouts=False,
        quiet=True,
    )
    worker.spinner = None  # a terminal spinner would write escape codes into the JSON logs
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0
