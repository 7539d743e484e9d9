// Eval runs: the tenant's runs, newest first, and one run's HTML report (fetched with the token).
import { el, session, api, authFetch, withLogin } from "./common.js";

const $ = (id) => document.getElementById(id);
const MAIN_METRICS = ["hit@5", "mrr@10", "accuracy", "macro_f1", "escalation_precision", "escalation_recall", "citation_accuracy", "groundedness", "latency_p95_ms", "cost_usd"];

function fmt(metric, value) {
  if (value === null || value === undefined) return "not measured";
  if (metric.endsWith("_ms")) return `${Math.round(value)} ms`;
  if (metric === "cost_usd") return `$${value.toFixed(4)}`;
  if (metric === "tokens") return String(Math.round(value));
  return value.toFixed(3);
}

function when(iso) {
  const date = new Date(iso);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function gatesCell(run) {
  if (!run.gates.length) return el("td", { class: "gates muted" }, "no gates");
  const failed = run.gates.filter((g) => !g.passed);
  const cell = el("td", { class: failed.length ? "gates gates-failed" : "gates gates-held" });
  cell.append(el("strong", {}, failed.length ? `✗ ${failed.length} of ${run.gates.length} failed` : `✓ all ${run.gates.length} held`));
  const list = el("ul", { class: "gate-list" });
  for (const g of run.gates) {
    const sign = g.direction === "min" ? "≥" : "≤";
    list.append(el("li", { class: g.passed ? "gate-ok" : "gate-failed", "data-gate": g.metric }, `${g.passed ? "✓" : "✗"} ${g.metric} ${fmt(g.metric, g.value)} (${sign} ${g.threshold})`));
  }
  cell.append(list);
  return cell;
}

function runRow(run) {
  const row = el("tr", { "data-run-id": run.id, class: run.passed ? "run-passed" : "run-failed" });
  const link = el("a", { href: run.report_url, class: "run-link" }, when(run.started_at));
  row.append(el("td", {}, link, el("div", { class: "muted" }, run.run_id)));
  row.append(el("td", { class: "suites", title: run.suites.join("\n") }, run.suites.map((s) => s.split("/").pop()).join(", ")));
  const rate = run.metrics.pass_rate;
  row.append(el("td", { class: "pass-rate" }, rate === undefined ? "–" : `${(rate * 100).toFixed(1)} %`));
  const metrics = el("ul", { class: "metric-list" });
  for (const name of MAIN_METRICS) {
    if (name in run.metrics) metrics.append(el("li", { "data-metric": name }, `${name} ${fmt(name, run.metrics[name])}`));
  }
  row.append(el("td", {}, metrics));
  row.append(gatesCell(run));
  const cases = el("td", { class: "cases" }, `${run.cases_passed} of ${run.cases_run} passed`);
  if (run.incomplete) cases.append(el("div", { class: "incomplete" }, `incomplete: interrupted after ${run.cases_run} of ${run.total_cases} cases`));
  row.append(cases);
  const commit = el("td", { class: "commit" });
  if (run.git_commit) commit.append(el("code", { title: run.git_commit }, run.git_commit.slice(0, 8))); else commit.append(el("span", { class: "muted" }, "–"));
  row.append(commit);
  row.append(el("td", {}, el("a", { href: run.report_url }, "Report")));
  return row;
}

function deny(error) {
  $("denied").hidden = false;
  $("denied").textContent = error.message === "Forbidden" || /admins/.test(error.message) ? `${error.message}. Log out and log in as an admin.` : error.message;
}

async function listRuns() {
  let runs;
  try {
    runs = await api("/api/v1/evals?limit=200");
  } catch (error) {
    $("runs-panel").hidden = true;
    deny(error);
    return;
  }
  $("run-rows").replaceChildren(...runs.map(runRow));
  $("runs").hidden = runs.length === 0;
  $("no-runs").hidden = runs.length !== 0;
}

async function showReport(runId) {
  let response;
  try { response = await authFetch(`/api/v1/evals/${runId}/report`); } catch (e) { return; }
  if (!response.ok) {
    const problem = await response.json().catch(() => null);
    deny(new Error((problem && problem.detail) || response.statusText));
    return;
  }
  const html = await response.text();
  const frame = $("report");
  frame.src = URL.createObjectURL(new Blob([html], { type: "text/html" }));
  frame.hidden = false;
  await new Promise((resolve) => frame.addEventListener("load", resolve, { once: true }));
  const title = frame.contentDocument && frame.contentDocument.title;
  if (title) { $("report-title").textContent = title; document.title = `Atende · ${title}`; }
}

async function start() {
  $("evals").hidden = false;
  $("me").textContent = session.user ? `${session.user.name} (${session.user.role})` : "";
  $("logout").addEventListener("click", () => session.logout());
  const runId = document.body.dataset.runId;
  if (runId) await showReport(runId); else await listRuns();
  document.body.dataset.ready = "1";
}

withLogin($("login"), start);
