"""The HTML report in Chromium, offline: the summary, the charts, and every failing case with its transcript."""

from __future__ import annotations

from playwright.async_api import Browser, Request, expect

from tests.evals.runs import EvalRun


async def test_the_html_report_shows_the_charts_and_the_failing_cases(
    browser: Browser, broken_run: EvalRun
) -> None:
    context = await browser.new_context(offline=True)
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    context.on("request", record)
    page = await context.new_page()
    await page.goto(broken_run.html.as_uri())

    await expect(page.locator("#verdict")).to_contain_text("gate(s) failed")
    await expect(page.locator("#gates")).to_contain_text("escalation_precision")
    await expect(page.locator('[data-metric="pass_rate"]')).to_be_visible()
    for chart in ("metric-bars", "case-strip", "latency-histogram"):
        await expect(page.locator(f"svg.{chart}")).to_be_visible()
    escalations = page.locator('svg.confusion[data-task="escalated"]')
    await expect(escalations).to_be_visible()
    await expect(escalations.locator("rect").first).to_be_visible()
    assert await page.locator('svg.case-strip rect[data-status="failed"]').count() >= 5
    assert await page.locator("svg.latency-histogram rect").count() > 0

    failing = page.locator('section.failing-case[data-case="conv-parcelamento"]')
    await expect(failing).to_contain_text("Vocês parcelam no cartão?")
    await expect(failing).to_contain_text("no_relevant_passage")
    await expect(failing.locator("td.fail").first).to_have_text("FAILED")
    await failing.locator("summary").first.click()
    await expect(failing.locator(".passage").first).to_contain_text("formas-de-pagamento.md")

    await page.locator('svg.case-strip a[href="#case-conv-portugal"] rect').click()
    assert page.url.endswith("#case-conv-portugal")
    await expect(page.locator("#case-conv-portugal")).to_be_in_viewport()
    assert requested == [broken_run.html.as_uri()], "the report fetches nothing"
    await context.close()
