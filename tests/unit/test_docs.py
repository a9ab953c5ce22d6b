"""The user docs stay true: generated tables match the code, every setting and metric is
documented, links resolve, the README stays short, and its Quick start matches .ci/run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from warmhandoff.streams.lab.reference_docs import DOCS, render

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
GUIDES = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *GUIDES]
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FORBIDDEN = re.compile(r"(issue|issues) #?[0-9]+|this session|last session", re.I)


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def prose(path: Path) -> str:
    """The page without its fenced code blocks."""
    return FENCE.sub("", text(path))


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a page: one per heading (repeats numbered), and explicit ids."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    for heading in re.findall(r"^#+ (.+)$", prose(path), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    found |= set(re.findall(r"<a (?:id|name)=\"([^\"]+)\"", text(path)))
    return found


def all_docs() -> str:
    return "\n".join(text(path) for path in GUIDES)


@pytest.mark.parametrize("relative", DOCS, ids=str)
def test_generated_tables_are_current(relative: Path) -> None:
    page = text(ROOT / relative)
    assert ":begin" in page and ":end -->" in page, f"{relative} lost its generated markers"
    assert render(page) == page, "run: python -m warmhandoff.streams.lab.reference_docs"


def test_every_setting_and_metric_is_documented() -> None:
    import warmhandoff.streams.services.learner  # noqa: F401  (registers the learner's metrics)
    from warmhandoff.streams.config.reference import SECTIONS
    from warmhandoff.streams.runtime.metrics import REGISTRY

    docs = all_docs()
    for _, kind in SECTIONS:
        for name in kind.model_fields:
            assert f"`WARMHANDOFF_{name.upper()}`" in docs, f"WARMHANDOFF_{name.upper()}"
    for family in REGISTRY.collect():
        assert family.name in docs, family.name


def test_quick_start_has_two_commands_and_ci_runs_the_second() -> None:
    block = re.search(r"## Quick start\n\n```\n(.*?)```", text(README), re.S)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(commands) == 2
    assert "warmhandoff demo" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "sed -n 2p" in ci and 'bash -c "$test_cmd"' in ci


def test_the_readme_is_short() -> None:
    assert len(text(README).splitlines()) < 350


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_issue_numbers_or_session_stories(page: Path) -> None:
    found = [m.group(0) for m in FORBIDDEN.finditer(text(page))]
    assert not found, f"{page.name}: {found} (history lives in git)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: {target}: no such file"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.name}: {target}: no such anchor"
