// The admin's channels tab: the tenant's channels (secrets masked) and a form to add one.
import { el, api, authFetch } from "./common.js";

const $ = (id) => document.getElementById(id);
const form = $("channel-form");
let editing = null;  // the channel being changed; null while adding one
let formDrawn = null;  // the promise of drawing the form once

// The form's inputs come from each channel type's settings schema: one input per setting name,
// shown for the types that have it. Secrets are password inputs, never filled in from the server.
async function drawForm() {
  const types = await api("/api/v1/admin/channels/types");
  const byName = new Map();
  for (const t of types) for (const field of t.fields) {
    if (byName.has(field.name)) byName.get(field.name).types.push(t.type); else byName.set(field.name, { field, types: [t.type] });
  }
  $("channel-type").replaceChildren(...types.map((t) => el("option", { value: t.type }, t.title)));
  $("channel-fields").replaceChildren(...[...byName.values()].map(({ field, types: of }) => fieldInput(field, of)));
  showTypeFields();
  $("channel-submit").disabled = false;
}

function fieldInput(field, types) {
  const named = { name: field.name, "aria-label": field.name.replaceAll("_", " "), title: field.help };
  const errorSlot = el("span", { class: "field-error", "data-error-for": field.name });
  if (field.kind === "switch") {
    const [off, on] = field.choices;
    const box = el("input", { type: "checkbox", name: field.name, value: on, "data-off": off, title: field.help });
    return el("label", { class: "check", "data-field": "", "data-for": types.join(" ") }, box, ` ${field.label}`, errorSlot);
  }
  const input = field.kind === "choice"
    ? el("select", named, ...field.choices.map((c) => el("option", c === field.default ? { value: c, selected: "" } : { value: c }, c)))
    : el("input", { ...named, type: field.kind === "secret" ? "password" : "text", autocomplete: "off",
      placeholder: field.placeholder, "data-placeholder": field.placeholder, "data-kind": field.kind });
  return el("label", { "data-field": "", "data-for": types.join(" ") }, `${field.label} `, input, errorSlot);
}

function settingInputs() { return $("channel-fields").querySelectorAll("[name]"); }

function showTypeFields() {
  const type = $("channel-type").value;
  for (const field of form.querySelectorAll("[data-for]")) field.hidden = !field.dataset.for.split(" ").includes(type);
}

function clearErrors() {
  for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
  for (const field of form.querySelectorAll(".has-error")) field.classList.remove("has-error");
}

function showProblem(problem) {
  const errors = (problem && problem.errors && problem.errors.length) ? problem.errors
    : [{ field: (problem && problem.field) || "channel", reason: (problem && problem.detail) || "could not add the channel" }];
  for (const { field, reason } of errors) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field || "channel")}"]`) || form.querySelector('[data-error-for="channel"]');
    slot.textContent = reason;
    const wrapper = slot.closest("[data-field]");
    if (wrapper) wrapper.classList.add("has-error");
  }
}

// WhatsApp by QR code: "Pair" starts the session and shows its QR code, refreshed every 2 s until connected.
const PAIRING_STATES = {
  connected: "Connected: customers' WhatsApp messages now reach Atende.",
  waiting_for_scan: "Scan this code with the WhatsApp of the number customers write to.",
  connecting: "Connecting to WhatsApp…",
  logged_out: "Not paired (or the codes ran out): press Pair for a new code.",
};
let pairingTimer = null;

function stopPairing() { clearTimeout(pairingTimer); pairingTimer = null; }

function pairCell(c) {
  const button = el("button", { type: "button", class: "secondary small", "data-pair": c.id }, "Pair");
  button.addEventListener("click", () => startPairing(c).catch((e) => { $("pairing-state").textContent = e.message; }));
  return el("td", { class: "webhook" }, button, " QR code");
}

async function showPairing(channelId) {
  const pairing = await api(`/api/v1/admin/channels/${channelId}/pairing`);
  $("pairing").dataset.state = pairing.state;
  $("pairing-state").textContent = PAIRING_STATES[pairing.state] || pairing.state;
  $("pairing-qr").innerHTML = pairing.qr_svg || "";  // drawn by our server from WhatsApp's code
  return pairing.state;
}

async function startPairing(c) {
  stopPairing();
  $("pairing").hidden = false;
  $("pairing-name").textContent = c.name;
  await api(`/api/v1/admin/channels/${c.id}/pairing`, { method: "POST" });
  const poll = async () => {
    const state = await showPairing(c.id).catch((e) => { $("pairing-state").textContent = e.message; return null; });
    if (state !== "connected" && !$("pairing").hidden) pairingTimer = setTimeout(poll, 2000);
  };
  await poll();
}

$("pairing-close").addEventListener("click", () => { stopPairing(); $("pairing").hidden = true; });

async function loadChannels() {
  const channels = await api("/api/v1/admin/channels");
  const rows = channels.map((c) => el("tr", { "data-channel-id": c.id, "data-type": c.type },
    el("td", {}, c.type), el("td", {}, c.name),
    c.type === "whatsapp-neonize" ? pairCell(c)
      : el("td", { class: "webhook" }, c.webhook_path ? `${location.origin}${c.webhook_path}` : (c.polls ? "long polling" : "—")),
    el("td", { class: "credentials" }, Object.entries(c.credentials).map(([k, v]) => `${k} ${v}`).join(", ") || "—"),
    el("td", {}, Object.entries(c.config).map(([k, v]) => `${k}: ${v}`).join(", ") || "—"),
    el("td", {}, editButton(c))));
  $("channel-rows").replaceChildren(...rows);
  if (!rows.length) $("channel-rows").append(el("tr", {}, el("td", { colspan: "6", class: "muted" }, "No channels yet.")));
}

// "Change": the same form, filled in; secrets left empty are kept (type one to rotate it).
function editButton(c) {
  const button = el("button", { type: "button", class: "secondary small", "data-edit": c.id }, "Change");
  button.addEventListener("click", () => startEditing(c));
  return button;
}

function startEditing(c) {
  editing = c;
  clearErrors();
  $("channel-form-title").textContent = `Change ${c.type} channel "${c.name}"`;
  $("channel-type").value = c.type; $("channel-type").disabled = true;
  showTypeFields();
  form.querySelector("[name=name]").value = c.name;
  for (const input of settingInputs()) {
    if (input.type === "checkbox") input.checked = c.config[input.name] === input.value;
    else if (input.dataset.kind === "secret") { input.value = ""; input.placeholder = "kept if empty"; }
    else input.value = c.config[input.name] ?? "";
  }
  $("channel-submit").textContent = "Save changes";
  $("channel-cancel").hidden = false;
  $("channel-status").textContent = "";
  form.scrollIntoView();
}

function stopEditing() {
  editing = null;
  $("channel-form-title").textContent = "Add a channel";
  $("channel-type").disabled = false;
  for (const input of form.querySelectorAll("[data-placeholder]")) input.placeholder = input.dataset.placeholder;
  $("channel-submit").textContent = "Add channel";
  $("channel-cancel").hidden = true;
  form.reset();
  showTypeFields();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  const data = { type: $("channel-type").value };
  const name = form.querySelector("[name=name]").value.trim();
  if (name) data.name = name;
  for (const input of settingInputs()) {
    if (input.closest("[hidden]")) continue;
    if (input.type === "checkbox") { if (input.checked) data[input.name] = input.value; else if (editing) data[input.name] = input.dataset.off; }
    else if (input.value.trim()) data[input.name] = input.value.trim();
  }
  const response = await authFetch(editing ? `/api/v1/admin/channels/${editing.id}` : "/api/v1/admin/channels", {
    method: editing ? "PATCH" : "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) { showProblem(body); $("channel-status").textContent = ""; return; }
  const where = body.webhook_path ? "give the provider " + location.origin + body.webhook_path : "polling";
  const done = editing ? `Saved: ${where}` : `Added: ${where}`;
  stopEditing();
  $("channel-status").textContent = done;
  loadChannels();
});

$("channel-cancel").addEventListener("click", () => { stopEditing(); $("channel-status").textContent = ""; });

$("channel-type").addEventListener("change", () => { clearErrors(); showTypeFields(); });
const tab = document.querySelector('.kb-header .tabs button[data-view="channels"]');
if (tab) tab.addEventListener("click", () => {
  formDrawn = formDrawn || drawForm().catch((e) => { formDrawn = null; throw e; });
  formDrawn.then(loadChannels).catch((e) => { $("channel-status").textContent = e.message; });
});
