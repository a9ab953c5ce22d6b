"""The image definition, read as text (no Docker engine here to build it): multi-stage, a
non-root user, the worker as entry point, and everything it copies present and not ignored."""

from __future__ import annotations

import re

from .deployfiles import DEPLOY, DOCKERFILE, ROOT


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text("utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_the_image_is_multi_stage() -> None:
    stages = [args for keyword, args in instructions() if keyword == "FROM"]
    assert len(stages) >= 2
    assert any(" AS " in stage.upper() for stage in stages)
    assert any(k == "COPY" and a.startswith("--from=") for k, a in instructions())


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    users = [args for keyword, args in instructions() if keyword == "USER"]
    assert users, "no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "Kubernetes runAsNonRoot needs a numeric non-zero uid"


def test_the_worker_is_the_entry_point() -> None:
    entry = [args for keyword, args in instructions() if keyword == "ENTRYPOINT"]
    cmd = [args for keyword, args in instructions() if keyword == "CMD"]
    assert entry[-1] == '["warmhandoff"]'
    assert cmd[-1] == '["worker"]'


def test_what_the_build_copies_exists_and_the_ignore_file_lets_it_through() -> None:
    copied: list[str] = []
    for keyword, args in instructions():
        if keyword == "COPY" and not args.startswith("--from="):
            copied.extend(args.split()[:-1])
    assert copied
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text("utf-8").splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for source in copied:
        assert (ROOT / source).exists(), source
        assert source in allowed, f"{source} is excluded by Dockerfile.dockerignore"


def test_the_volume_is_the_data_dir() -> None:
    env = " ".join(args for keyword, args in instructions() if keyword == "ENV")
    data_dir = re.search(r"WARMHANDOFF_DATA_DIR=(\S+)", env)
    assert data_dir is not None
    volumes = [args for keyword, args in instructions() if keyword == "VOLUME"]
    assert volumes == [f'["{data_dir.group(1)}"]']
