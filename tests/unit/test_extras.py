"""Optional parts of the install (pip extras): a command that needs a missing one says which
extra to install, in one line, instead of failing on an import."""

from __future__ import annotations

import sys

import pytest

from warmhandoff.streams.config.sink import SinkSettings
from warmhandoff.streams.contract.errors import MissingExtraError
from warmhandoff.streams.learning.model import LearnedModel
from warmhandoff.streams.sinks.factory import build_sink


def test_the_learned_model_without_river_names_the_learner_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "river", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'warmhandoff\[learner\]'"):
        LearnedModel()


def test_the_salesforce_sink_without_its_client_names_the_salesforce_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [n for n in sys.modules if n.split(".")[0] == "simple_salesforce"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    monkeypatch.setitem(sys.modules, "simple_salesforce", None)
    monkeypatch.delitem(sys.modules, "warmhandoff.streams.sinks.salesforce", raising=False)
    settings = SinkSettings(
        sink_salesforce_client_id="id", sink_salesforce_client_secret="secret", web_port=0
    )
    with pytest.raises(MissingExtraError, match=r"warmhandoff\[salesforce\]") as caught:
        build_sink("salesforce", settings)
    assert "\n" not in str(caught.value)
