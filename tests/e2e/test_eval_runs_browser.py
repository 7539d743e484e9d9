"""In Chromium: an admin sees the tenant's eval runs newest first, opens one, and reads its report's charts."""

from __future__ import annotations

import datetime
import re

import msgspec
import pytest
from playwright.async_api import Browser, Page, expect

from core.accounts import get_tenant
from core.database import open_database
from core.settings import Settings
from evals.history import store_run
from evals.results import Report
from evals.scoring import overall
from tests.conftest import LiveServer
from tests.evals.test_eval_runs_api import StoredRuns, run_suite_twice


@pytest.fixture(scope="module")
def runs(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> StoredRuns:
    return run_suite_twice(live_server, tmp_path_factory.mktemp("eval-runs-browser"))


async def store_interrupted_copy(live_server: LiveServer, runs: StoredRuns) -> str:
    """The held run again, as if Ctrl-C had stopped it after its first case, stored as the newest run."""
    report = msgspec.convert(runs.held, Report)
    started = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1)
    interrupted = msgspec.structs.replace(
        report,
        run_id="interrupted-run",
        started_at=started.isoformat(timespec="seconds"),
        finished_at=started.isoformat(timespec="seconds"),
        incomplete=True,
        cases=report.cases[:1],
        metrics=overall(report.cases[:1]),
        gates=[],
    )
    async with (
        open_database(Settings(data_dir=live_server.data_dir)) as database,
        database.sessionmaker.begin() as session,
    ):
        tenant = await get_tenant(session, runs.tenant.slug)
        store_run(session, tenant.id, interrupted)
    return interrupted.run_id


async def open_evals(browser: Browser, live_server: LiveServer, credentials: tuple[str, str]) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{live_server.url}/evals")
    await page.get_by_label("email").fill(credentials[0])
    await page.get_by_label("password").fill(credentials[1])
    await page.get_by_role("button", name="Log in").click()
    return page


async def test_admin_sees_the_runs_newest_first_and_opens_a_report(
    browser: Browser, live_server: LiveServer, runs: StoredRuns
) -> None:
    interrupted = await store_interrupted_copy(live_server, runs)
    page = await open_evals(browser, live_server, runs.tenant.admin)
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")

    rows = page.locator("#run-rows tr")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0)).to_contain_text(interrupted)
    await expect(rows.nth(0).locator(".incomplete")).to_have_text(
        "incomplete: interrupted after 1 of 3 cases"
    )
    await expect(rows.nth(0).locator(".gates")).to_have_text("no gates")
    await expect(rows.nth(0).locator(".pass-rate")).to_have_text("100.0 %")

    failed = rows.nth(1)
    await expect(failed).to_contain_text(runs.failed["run_id"])
    await expect(failed).to_have_class("run-failed")
    await expect(failed.locator(".gates strong")).to_have_text("✗ 1 of 1 failed")
    await expect(failed.locator('[data-gate="pass_rate"]')).to_contain_text("✗ pass_rate 0.333 (≥ 0.9)")
    await expect(failed.locator(".pass-rate")).to_have_text("33.3 %")
    await expect(failed.locator(".cases")).to_have_text("1 of 3 passed")
    if runs.failed["git_commit"]:
        await expect(failed.locator(".commit")).to_have_text(runs.failed["git_commit"][:8])

    held = rows.nth(2)
    await expect(held).to_contain_text(runs.held["run_id"])
    await expect(held).to_have_class("run-passed")
    await expect(held.locator(".gates strong")).to_have_text("✓ all 1 held")
    await expect(held.locator(".incomplete")).to_have_count(0)

    href = await failed.locator("a.run-link").get_attribute("href")
    assert href is not None and re.fullmatch(r"/evals/[0-9a-f-]{36}/report", href), href
    await failed.locator("a.run-link").click()
    await expect(page).to_have_url(f"{live_server.url}{href}")
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    await expect(page.locator("#report-title")).to_contain_text(runs.failed["run_id"])
    report = page.frame_locator("#report")
    await expect(report.locator("#verdict")).to_contain_text("gate(s) failed")
    # The report's own stylesheet applies under the pages' policy (allowed by its hash, no inline styles).
    await expect(report.locator("#verdict")).to_have_css("background-color", "rgb(255, 235, 238)")
    for chart in ("metric-bars", "case-strip"):
        await expect(report.locator(f"svg.{chart}")).to_be_visible()
    failing = report.locator('section.failing-case[data-case="human-is-not-billing"]')
    await expect(failing).to_contain_text("quero falar com um atendente")
    await expect(report.locator('section.failing-case[data-case="asks-for-human"]')).to_have_count(0)
    await report.locator('svg.case-strip a[href="#case-pix-discount"] rect').click()
    await expect(report.locator("#case-pix-discount")).to_be_in_viewport()
    await expect(page).to_have_url(f"{live_server.url}{href}")

    await page.get_by_role("link", name="← All eval runs").click()
    await expect(page.locator("#run-rows tr")).to_have_count(3)


async def test_an_unknown_report_says_so(browser: Browser, live_server: LiveServer, runs: StoredRuns) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{live_server.url}/evals/00000000-0000-7000-8000-000000000000/report")
    await page.get_by_label("email").fill(runs.tenant.admin[0])
    await page.get_by_label("password").fill(runs.tenant.admin[1])
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#denied")).to_have_text(
        "eval run 00000000-0000-7000-8000-000000000000 not found"
    )
    await expect(page.locator("#report")).to_be_hidden()


async def test_an_agent_is_told_the_eval_runs_are_for_admins(
    browser: Browser, live_server: LiveServer, runs: StoredRuns
) -> None:
    page = await open_evals(browser, live_server, runs.tenant.agent)
    await expect(page.locator("#denied")).to_contain_text("only admins see the tenant's eval runs")
    await expect(page.locator("#runs")).to_be_hidden()
    await expect(page.locator("#run-rows tr")).to_have_count(0)
