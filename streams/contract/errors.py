"""Errors warmhandoff raises on purpose.

Every error carries a one-line message written for the person running the command, so the
CLI can print `str(error)` and exit non-zero without a traceback. `retriable` says whether
trying again later may succeed (the aiokafka convention).
"""

from __future__ import annotations


class WarmhandoffError(Exception):
    """Base of every error warmhandoff raises on purpose."""

    retriable: bool = False

    def __init__(self, message: str) -> None:
        # One line only: the CLI prints it as is.
        self.message = " ".join(message.split())
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class ConfigError(WarmhandoffError):
    """A setting, topics file or policy file is invalid."""


class BrokerUnavailableError(WarmhandoffError):
    """No Kafka broker answers, and none could be started."""

    retriable = True


class KafkaUnavailableError(BrokerUnavailableError):
    """Apache Kafka cannot be provisioned here: no Java 17+, no Maven, or no Maven Central."""


class TopicDriftError(WarmhandoffError):
    """Topics on the broker do not match topics.yaml."""


class AclError(WarmhandoffError):
    """The broker cannot list or change ACLs: no authorizer, no ACL API, or not allowed."""


class UnknownTopicError(WarmhandoffError, KeyError):
    """Code asked for a logical topic that topics.yaml does not declare."""


class MissingExtraError(WarmhandoffError):
    """A command needs an optional part of the install (a pip extra) that is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} needs the {extra} extra: pip install 'warmhandoff[{extra}]'")


class DatasetError(WarmhandoffError):
    """A labelled data set for `warmhandoff eval` is missing or malformed."""
