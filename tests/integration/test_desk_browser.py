"""The desk page in a real browser (headless Chromium, Debian's package, driven by Playwright):
an agent logs in and works one handoff with the keyboard alone, while a supervisor's page
shows the queue's counts change live."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Deployment
from .desk_process import DeskProcess, escalate, publish_presence, read_topic, token

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright is a test dependency: pip install -e '.[test]'"
)
WAIT_MS = 60_000  # the page's own timeout for what the pipeline does: escalate, pause, publish


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if CHROMIUM is None:
        pytest.skip("no Chromium: apt-get install chromium (.ci/run installs it)")
    async with playwright_api.async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


async def log_in(browser: Any, desk: DeskProcess, person: str, role: str) -> Any:
    page = await browser.new_page(viewport={"width": 1300, "height": 900})
    await page.goto(desk.url + "/")
    field = page.get_by_label("Desk token")
    await playwright_api.expect(field).to_be_focused()  # the page puts the cursor there
    await page.keyboard.type(token(person, role))
    await page.keyboard.press("Enter")
    await playwright_api.expect(page.locator("#me")).to_have_text(f"{person} ({role})")
    return page


async def tab_to(page: Any, selector: str, *, limit: int = 60) -> None:
    """Press Tab until the element `selector` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if await page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{selector} was not reachable with Tab")


async def test_an_agent_works_a_handoff_by_keyboard_and_the_supervisor_sees_it_live(
    deployment: Deployment, browser: Any, tmp_path: Path
) -> None:
    expect = playwright_api.expect
    deployment.worker()
    desk = DeskProcess(deployment)
    await desk.start()
    try:
        await publish_presence(deployment, "ana", {"customer_care": 5})
        supervisor = await log_in(browser, desk, "sue", "supervisor")
        agent = await log_in(browser, desk, "ana", "agent")

        cid = await escalate(deployment, "cust-browser-1")
        request = await read_topic(
            deployment, "handoff.requests", lambda r: r["conversation_id"] == cid, within=90
        )
        hid = request["handoff_id"]
        item = agent.locator(f'#waiting button[data-hid="{hid}"]')
        await expect(item).to_be_visible(timeout=WAIT_MS)  # arrives live, no reload
        row = supervisor.locator('#queues tr[data-queue="general"]')
        await expect(row.locator("td.waiting")).to_have_text("1", timeout=WAIT_MS)

        # Every control has a label a screen reader announces.
        unlabelled = await agent.evaluate(
            """() => [...document.querySelectorAll('button, select, textarea, input')]
                 .filter((e) => !e.closest('[hidden]'))
                 .filter((e) => !(e.labels && e.labels.length) && !e.textContent.trim()
                                && !e.getAttribute('aria-label'))
                 .map((e) => e.outerHTML)"""
        )
        assert unlabelled == []

        await tab_to(agent, f'#waiting button[data-hid="{hid}"]')
        await agent.keyboard.press("Enter")
        await expect(agent.locator("#detail-title")).to_be_focused()
        await expect(agent.locator("#transcript")).to_contain_text("my parcel never arrived")
        await agent.screenshot(path=str(tmp_path / "desk-agent.png"), full_page=True)

        await tab_to(agent, "#accept")
        await agent.keyboard.press("Enter")
        pause = await read_topic(
            deployment,
            "bot.directives",
            lambda d: d["conversation_id"] == cid and d["type"] == "pause",
            within=60,
        )
        assert pause["handoff_id"] == hid
        await expect(row.locator("td.waiting")).to_have_text("0", timeout=WAIT_MS)
        await expect(row.locator("td.in-progress")).to_have_text("1", timeout=WAIT_MS)
        await supervisor.screenshot(path=str(tmp_path / "desk-supervisor.png"), full_page=True)

        await expect(agent.locator("#reply")).to_be_enabled(timeout=WAIT_MS)
        await tab_to(agent, "#reply")
        await agent.keyboard.type("Hello, I'm Ana and I have your tracking details here.")
        await tab_to(agent, "#send-reply")
        await agent.keyboard.press("Enter")
        await expect(agent.locator("#sent-reply")).to_contain_text("Hello, I'm Ana")

        await tab_to(agent, "#outcome")
        await agent.keyboard.press("End")  # the last outcome in the list
        outcome = await agent.locator("#outcome").input_value()
        await tab_to(agent, "#resolve")
        await agent.keyboard.press("Enter")
        resolved = await read_topic(
            deployment,
            "handoff.events",
            lambda e: e["handoff_id"] == hid and e["type"] == "resolved",
            within=60,
        )
        assert resolved["reason"] == outcome and resolved["agent_id"] == "ana"
        replied = await read_topic(
            deployment,
            "handoff.events",
            lambda e: e["handoff_id"] == hid and e["type"] == "replied",
            within=30,
        )
        assert replied["reply"].startswith("Hello, I'm Ana")
        await expect(row.locator("td.in-progress")).to_have_text("0", timeout=WAIT_MS)
        await expect(agent.locator(f'#recent button[data-hid="{hid}"]')).to_be_visible()
    finally:
        desk.stop()
