"""The settings of `warmhandoff learner`: when and how often to ask for a survey."""

from __future__ import annotations

from pydantic import Field

from warmhandoff.streams.config.service import LEARNER_PORT, ServiceSettings, ops_port


class LearnerSettings(ServiceSettings):
    """The settings of `warmhandoff learner`: when and how often to ask for a survey."""

    web_port: int = ops_port(LEARNER_PORT)
    learner_survey_idle_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="learner: a conversation the bot kept with no turn for this long is over "
        "and the bot is directed to ask the one-question survey",
    )
    learner_survey_sample: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="learner: share of conversations the bot kept that get the survey, chosen "
        "by conversation id (0: none)",
    )
