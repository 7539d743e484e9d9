// The knowledge manager: upload with per-file progress, documents and their chunks, search playground, gaps.
import { el, session, api, freshToken, withLogin } from "./common.js";

const $ = (id) => document.getElementById(id);
let polling = null;

function show(view) {
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== view;
  for (const b of document.querySelectorAll(".kb-header .tabs button")) b.classList.toggle("secondary", b.dataset.view !== view);
  if (view === "gaps") loadGaps();
}

async function loadDocuments() {
  const documents = await api("/api/v1/kb/documents");
  $("documents").replaceChildren(...documents.map((d) => {
    const preview = el("button", { class: "secondary" }, "Chunks");
    preview.addEventListener("click", () => showChunks(d));
    const remove = el("button", { class: "secondary" }, "Delete");
    remove.addEventListener("click", async () => { if (confirm(`Delete ${d.source}?`)) { await api(`/api/v1/kb/documents/${d.id}`, { method: "DELETE" }); loadDocuments(); } });
    const status = el("td", { class: `status status-${d.status}` }, d.status + (d.error ? `: ${d.error}` : ""));
    const actions = el("td", {}, preview, " ", remove);
    return el("tr", { "data-source": d.source }, el("td", {}, el("strong", {}, d.title), el("div", { class: "muted" }, d.source)),
      el("td", {}, d.collection), el("td", {}, d.format), el("td", {}, d.language), el("td", {}, String(d.chunks)), status, actions);
  }));
  const busy = documents.some((d) => d.status === "queued" || d.status === "parsing");
  if (busy && !polling) polling = setInterval(loadDocuments, 1000);
  if (!busy && polling) { clearInterval(polling); polling = null; }
}

async function showChunks(document_) {
  const chunks = await api(`/api/v1/kb/documents/${document_.id}/chunks`);
  const box = $("chunks");
  box.hidden = false;
  box.replaceChildren(el("h3", {}, `${document_.title} — ${chunks.length} chunks`), ...chunks.map((c) =>
    el("article", { class: "chunk" }, el("div", { class: "muted" }, `#${c.position} ${c.heading_path}${c.page ? ` (p. ${c.page})` : ""}`), c.text)));
}

async function upload(file) {
  const row = el("li", { "data-upload": file.name }, el("span", {}, file.name), el("progress", { max: "100", value: "0" }), el("span", { class: "muted" }, "uploading"));
  $("uploads").append(row);
  const form = new FormData();
  form.append("files", file);
  form.append("collection", $("collection").value || "default");
  const request = new XMLHttpRequest();
  request.open("POST", "/api/v1/kb/documents");
  request.setRequestHeader("Authorization", `Bearer ${await freshToken()}`);
  request.upload.onprogress = (e) => { if (e.lengthComputable) row.querySelector("progress").value = (100 * e.loaded) / e.total; };
  request.onload = () => {
    row.querySelector("progress").value = 100;
    let label = "failed";
    try {
      const [outcome] = JSON.parse(request.responseText);
      label = outcome.error ? `failed: ${outcome.error}` : outcome.status;
    } catch { label = `failed: ${request.statusText}`; }
    row.lastChild.textContent = label;
    loadDocuments();
  };
  request.send(form);
}

async function runSearch(e) {
  e.preventDefault();
  const results = await api(`/api/v1/kb/search?q=${encodeURIComponent($("query").value)}&k=10`);
  $("results").replaceChildren(...results.map((p, i) => el("tr", { "data-document": p.document },
    el("td", {}, String(i + 1)), el("td", {}, p.document), el("td", {}, `${p.heading_path}${p.page ? ` (p. ${p.page})` : ""}`),
    el("td", {}, p.fused_score.toFixed(4)),
    el("td", { class: "dense" }, `${p.dense_score.toFixed(3)} (${p.dense_rank ?? "–"})`),
    el("td", { class: "lexical" }, `${p.lexical_score.toFixed(3)} (${p.lexical_rank ?? "–"})`),
    el("td", {}, p.text.length > 160 ? `${p.text.slice(0, 160)}…` : p.text))));
}

async function loadGaps() {
  const gaps = await api("/api/v1/kb/gaps");
  $("gaps").replaceChildren(...gaps.map((g) => el("li", { class: "gap" }, el("strong", {}, `${g.question}`), el("span", { class: "muted" }, ` — asked ${g.count}×`),
    ...(g.examples.length ? [el("div", { class: "muted" }, `also: ${g.examples.join(" · ")}`)] : []))));
  if (!gaps.length) $("gaps").append(el("li", { class: "muted" }, "No gaps yet: every question found an answer."));
}

function start() {
  $("kb").hidden = false;
  $("me").textContent = session.user ? `${session.user.name} (${session.user.role})` : "";
  $("logout").addEventListener("click", () => session.logout());
  for (const b of document.querySelectorAll(".kb-header .tabs button")) b.addEventListener("click", () => show(b.dataset.view));
  const zone = $("dropzone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); [...e.dataTransfer.files].forEach(upload); });
  $("files").addEventListener("change", (e) => { [...e.target.files].forEach(upload); e.target.value = ""; });
  $("search").addEventListener("submit", runSearch);
  loadDocuments();
}

withLogin($("login"), start);
