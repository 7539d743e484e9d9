// Failed jobs: the tenant's jobs given up on after their last try, replayed one by one or all at once.
import { el, session, api, withLogin } from "./common.js";

const $ = (id) => document.getElementById(id);
const KINDS = { message: "Outbound message", webhook: "Webhook event", turn: "Customer message (turn)", ingest: "Document ingest", malformed: "Malformed job" };
let lastJobs = "";

function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function deny(error) {
  $("denied").hidden = false;
  $("denied").textContent = /admins/.test(error.message) ? `${error.message}. Log out and log in as an admin.` : error.message;
}

function say(text, ok) {
  $("replay-status").className = `form-status ${ok ? "ok" : "failed"}`;
  $("replay-status").textContent = text;
}

async function replay(path) {
  try {
    const { replayed } = await api(path, { method: "POST" });
    say(`${replayed.length} job${replayed.length === 1 ? "" : "s"} replayed.`, true);
  } catch (error) {
    say(`Not replayed: ${error.message}`, false);
  }
  lastJobs = "";
  await loadJobs();
}

function jobRow(job) {
  const row = el("tr", { "data-job-id": job.id, class: `job-${job.kind}` });
  row.append(el("td", { class: "job-kind" }, KINDS[job.kind] || job.kind));
  row.append(el("td", {}, when(job.failed_at)));
  row.append(el("td", { class: "attempts" }, String(job.attempts)));
  row.append(el("td", { class: "last-error" }, job.error || ""));
  const actions = el("td");
  if (job.replaying) {
    actions.append(el("span", { class: "muted" }, "replaying…"));
  } else if (job.replayable) {
    const button = el("button", { class: "secondary small", type: "button" }, "Replay");
    button.setAttribute("aria-label", `Replay ${KINDS[job.kind] || job.kind} ${job.id}`);
    button.addEventListener("click", () => replay(`/api/v1/admin/failed-jobs/${job.id}/replay`));
    actions.append(button);
  }
  row.append(actions);
  return row;
}

async function loadJobs() {
  const jobs = await api("/api/v1/admin/failed-jobs");
  const snapshot = JSON.stringify(jobs);
  if (snapshot === lastJobs) return;
  lastJobs = snapshot;
  $("job-rows").replaceChildren(...jobs.map(jobRow));
  $("jobs").hidden = jobs.length === 0;
  $("no-jobs").hidden = jobs.length !== 0;
  $("replay-all").disabled = !jobs.some((job) => job.replayable && !job.replaying);
}

async function start() {
  $("failed-jobs").hidden = false;
  $("me").textContent = session.user ? `${session.user.name} (${session.user.role})` : "";
  $("logout").addEventListener("click", () => session.logout());
  try {
    await loadJobs();
  } catch (error) {
    $("jobs-panel").hidden = true;
    deny(error);
    document.body.dataset.ready = "1";
    return;
  }
  $("replay-all").addEventListener("click", () => {
    if (confirm("Replay every failed job?")) replay("/api/v1/admin/failed-jobs/replay");
  });
  setInterval(() => loadJobs().catch(() => {}), 2000);
  document.body.dataset.ready = "1";
}

withLogin($("login"), start);
