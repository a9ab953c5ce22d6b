"""JSON Schemas of every topic's value, exported from the wire models.

The files in `streams/contract/schemas/` are generated, never edited by hand:
`python -m warmhandoff.streams.contract.json_schemas` rewrites them, and a test fails when they
differ from the models, so integrators can validate against them and trust they match what
is published.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from warmhandoff.streams.contract.models import TOPIC_MODELS, ReplayLine

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


def schema_models() -> dict[str, type[BaseModel]]:
    """File stem → model, for every topic value plus replay's output line."""
    models = {topic: model for topic, model in TOPIC_MODELS.items()}
    models["replay.line"] = ReplayLine
    return models


def render(model: type[BaseModel], name: str) -> str:
    """The JSON Schema of a model as stable, pretty text."""
    schema: dict[str, Any] = model.model_json_schema(mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": name, **schema}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema file; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, model in schema_models().items():
        path = directory / f"{stem}.schema.json"
        path.write_text(render(model, path.name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    for written_path in export(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR):
        sys.stdout.write(f"{written_path}\n")
