// The admin: the tenant's escalation policy, its LLM provider, and what the LLM cost.
import { el, session, authFetch, withLogin } from "./common.js";

const $ = (id) => document.getElementById(id);
const DAY_NAMES = { mon: "Monday", tue: "Tuesday", wed: "Wednesday", thu: "Thursday", fri: "Friday", sat: "Saturday", sun: "Sunday" };
const CHOICES = { primary: "Primary provider", fallback: "Fallback provider (used when the primary fails)" };
let defaults = null;

// Like common.js's api(), but a failed save keeps the problem body: its errors name the fields.
async function call(path, method = "GET", body = undefined) {
  const options = { method, headers: {} };
  if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
  const response = await authFetch(path, options);
  const data = await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, data };
}

async function load(path) {
  const { ok, data } = await call(path);
  if (!ok) throw new Error((data && data.detail) || "request failed");
  return data;
}

// ---- field errors ----------------------------------------------------------------------------

function clearErrors(form) {
  for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
  for (const field of form.querySelectorAll(".has-error")) field.classList.remove("has-error");
}

// "business_hours.weekly.sat[0].opens" has no slot of its own: the nearest enclosing one shows it.
function slotFor(form, field, fallback) {
  let name = field || "";
  for (;;) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot) return slot;
    const shorter = name.replace(/(\.[^.[\]]+|\[[^\]]*\])$/, "");
    if (shorter === name) return form.querySelector(`[data-error-for="${fallback}"]`);
    name = shorter;
  }
}

function showErrors(form, problem, fallback) {
  const errors = (problem && problem.errors && problem.errors.length) ? problem.errors : [{ field: fallback, reason: (problem && problem.detail) || "could not save" }];
  for (const { field, reason } of errors) {
    const slot = slotFor(form, field, fallback);
    slot.textContent = slot.textContent ? `${slot.textContent}; ${reason}` : reason;
    const wrapper = slot.closest("[data-field]") || slot.closest("tr");
    if (wrapper) wrapper.classList.add("has-error");
  }
  const first = form.querySelector(".has-error input, .has-error select");
  if (first) first.focus();
}

function status(id, text, ok) {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle("ok", ok);
  node.classList.toggle("failed", !ok);
}

const number = (input) => (input.value.trim() === "" ? null : Number(input.value));

// ---- escalation policy -----------------------------------------------------------------------

function intervalRow(day, hours = { opens: "09:00", closes: "18:00" }) {
  const opens = el("input", { type: "time", "data-key": "opens", "aria-label": `${DAY_NAMES[day]} opens` });
  const closes = el("input", { type: "time", "data-key": "closes", "aria-label": `${DAY_NAMES[day]} closes` });
  opens.value = hours.opens; closes.value = hours.closes;
  const remove = el("button", { type: "button", class: "secondary small", "aria-label": `Remove ${DAY_NAMES[day]} hours` }, "×");
  const row = el("span", { class: "interval" }, opens, " – ", closes, " ", remove);
  remove.addEventListener("click", () => { row.remove(); renderClosed(day); });
  return row;
}

function renderClosed(day) {
  const list = document.querySelector(`[data-day="${day}"] .intervals`);
  const closed = list.querySelector(".closed");
  if (!list.querySelector(".interval") && !closed) list.append(el("span", { class: "closed muted" }, "closed"));
  if (list.querySelector(".interval") && closed) closed.remove();
}

function renderWeekly(weekly) {
  $("weekly").replaceChildren(...defaults.weekdays.map((day) => {
    const intervals = el("div", { class: "intervals" }, ...(weekly[day] || []).map((h) => intervalRow(day, h)));
    const add = el("button", { type: "button", class: "secondary small", "aria-label": `Add ${DAY_NAMES[day]} hours` }, "+ hours");
    add.addEventListener("click", () => { intervals.append(intervalRow(day)); renderClosed(day); });
    const row = el("tr", { "data-day": day, "data-field": `business_hours.weekly.${day}` }, el("th", {}, DAY_NAMES[day]),
      el("td", {}, intervals, add, el("div", { class: "field-error", "data-error-for": `business_hours.weekly.${day}` })));
    return row;
  }));
  for (const day of defaults.weekdays) renderClosed(day);
}

function holidayRow(date = "") {
  const input = el("input", { type: "date", "aria-label": "holiday" });
  input.value = date;
  const remove = el("button", { type: "button", class: "secondary small", "aria-label": "Remove holiday" }, "×");
  const row = el("li", {}, input, " ", remove);
  remove.addEventListener("click", () => row.remove());
  return row;
}

function showBusinessHours(enabled) {
  $("bh-enabled").checked = enabled;
  $("bh").hidden = !enabled;
}

function fillPolicy(policy, intents) {
  const chosen = new Set(policy.always_escalate_intents);
  $("intents").replaceChildren(...intents.map((intent) => el("label", { class: "check" },
    Object.assign(el("input", { type: "checkbox", value: intent, "aria-label": intent }), { checked: chosen.has(intent) }), ` ${intent}`)));
  for (const key of ["sentiment_threshold", "churn_threshold", "min_retrieval_confidence", "max_bot_turns"]) {
    $(key).value = policy[key] === null || policy[key] === undefined ? "" : String(policy[key]);
  }
  const hours = policy.business_hours;
  showBusinessHours(Boolean(hours));
  $("bh-timezone").value = hours ? hours.timezone : "";
  renderWeekly(hours ? hours.weekly : {});
  $("holidays").replaceChildren(...(hours ? hours.holidays : []).map(holidayRow));
}

function collectPolicy() {
  const weekly = {};
  for (const row of $("weekly").querySelectorAll("tr[data-day]")) {
    const intervals = [...row.querySelectorAll(".interval")].map((i) => ({
      opens: i.querySelector('[data-key="opens"]').value, closes: i.querySelector('[data-key="closes"]').value }));
    if (intervals.length) weekly[row.dataset.day] = intervals;
  }
  return {
    always_escalate_intents: [...$("intents").querySelectorAll("input:checked")].map((i) => i.value),
    sentiment_threshold: number($("sentiment_threshold")),
    churn_threshold: number($("churn_threshold")),
    min_retrieval_confidence: number($("min_retrieval_confidence")),
    max_bot_turns: number($("max_bot_turns")),
    business_hours: $("bh-enabled").checked ? {
      timezone: $("bh-timezone").value.trim(),
      weekly,
      holidays: [...$("holidays").querySelectorAll("input")].map((i) => i.value).filter(Boolean),
    } : null,
  };
}

async function savePolicy(e) {
  e.preventDefault();
  const form = $("policy");
  clearErrors(form);
  status("policy-status", "Saving…", true);
  const { ok, data } = await call("/api/v1/admin/policy", "PUT", collectPolicy());
  if (!ok) { status("policy-status", "Not saved: fix the fields marked below.", false); showErrors(form, data, "policy"); return; }
  fillPolicy(data, await load("/api/v1/admin/intents"));
  status("policy-status", "Saved.", true);
}

// ---- LLM provider ----------------------------------------------------------------------------

function choiceFieldset(name) {
  const fieldset = $("choice-template").content.firstElementChild.cloneNode(true);
  fieldset.dataset.choice = name;
  fieldset.dataset.field = name;
  fieldset.querySelector("legend").textContent = CHOICES[name];
  for (const slot of fieldset.querySelectorAll("[data-error-for]")) slot.dataset.errorFor = slot.dataset.errorFor ? `${name}.${slot.dataset.errorFor}` : name;
  for (const field of fieldset.querySelectorAll(".field[data-field]")) field.dataset.field = `${name}.${field.dataset.field}`;
  for (const input of fieldset.querySelectorAll("[data-key]")) {
    input.id = `${name}-${input.dataset.key}`;
    input.setAttribute("aria-label", `${name} ${input.getAttribute("aria-label")}`);
    const label = input.closest(".field").querySelector("label");
    if (label) label.htmlFor = input.id;
  }
  const select = fieldset.querySelector('[data-key="provider"]');
  const none = name === "primary" ? "None: the server's default" : "None";
  select.append(el("option", { value: "" }, none), ...defaults.providers.map((p) => el("option", { value: p }, p)));
  select.addEventListener("change", () => { fieldset.querySelector(".choice-details").hidden = !select.value; });
  return fieldset;
}

function fillLlm(view) {
  for (const name of Object.keys(CHOICES)) {
    const fieldset = document.querySelector(`[data-choice="${name}"]`);
    const choice = view[name];
    for (const input of fieldset.querySelectorAll("[data-key]")) {
      const key = input.dataset.key;
      if (key === "api_key") {
        input.value = "";
        input.placeholder = choice && choice.api_key ? `stored key ${choice.api_key}` : "no key stored";
      } else {
        input.value = choice && choice[key] !== null && choice[key] !== undefined ? String(choice[key]) : "";
      }
    }
    fieldset.querySelector(".choice-details").hidden = !choice;
  }
  $("classify_with_llm").checked = Boolean(view.classify_with_llm);
}

function collectLlm() {
  const body = {};
  for (const name of Object.keys(CHOICES)) {
    const value = (key) => document.getElementById(`${name}-${key}`);
    if (!value("provider").value) { body[name] = null; continue; }
    const choice = {
      provider: value("provider").value,
      model: value("model").value.trim(),
      base_url: value("base_url").value.trim() || null,
      input_price_per_mtok: number(value("input_price_per_mtok")),
      output_price_per_mtok: number(value("output_price_per_mtok")),
    };
    if (value("api_key").value) choice.api_key = value("api_key").value;
    body[name] = choice;
  }
  body.classify_with_llm = $("classify_with_llm").checked;
  return body;
}

async function saveLlm(e) {
  e.preventDefault();
  const form = $("llm");
  clearErrors(form);
  status("llm-status", "Saving…", true);
  const { ok, data } = await call("/api/v1/admin/llm", "PUT", collectLlm());
  if (!ok) { status("llm-status", "Not saved: fix the fields marked below.", false); showErrors(form, data, "llm"); return; }
  fillLlm(data);
  status("llm-status", "Saved.", true);
}

function describeServer() {
  const server = defaults.server_llm.primary;
  $("server-llm").textContent = server
    ? `With no provider here, the server's ${server.provider} (${server.model}) answers.`
    : "With no provider here, the bot answers offline: extractive answers quoted from the knowledge base.";
}

// ---- usage -----------------------------------------------------------------------------------

const usd = (value) => `$${value.toFixed(4)}`;
const count = (value) => value.toLocaleString("en-US");

async function loadUsage() {
  const usage = await load(`/api/v1/admin/usage?days=${$("usage-days").value}`);
  const t = usage.total;
  $("usage-totals").replaceChildren(...[["Calls", count(t.calls)], ["Input tokens", count(t.input_tokens)],
    ["Output tokens", count(t.output_tokens)], ["Cost", usd(t.cost_usd)]].map(([label, value]) =>
    el("div", { class: "total", "data-total": label }, el("span", { class: "muted" }, label), el("strong", {}, value))));
  const cells = (r) => [el("td", {}, count(r.calls)), el("td", {}, count(r.input_tokens)), el("td", {}, count(r.output_tokens)), el("td", {}, usd(r.cost_usd))];
  $("usage-models").replaceChildren(...usage.by_model.map((r) => el("tr", { "data-model": r.model }, el("td", {}, r.provider), el("td", {}, r.model), ...cells(r))));
  $("usage-conversations").replaceChildren(...usage.by_conversation.map((r) => el("tr", { "data-conversation": r.conversation_id },
    el("td", { title: r.conversation_id }, r.conversation_id.slice(0, 8)), ...cells(r))));
  if (!usage.by_model.length) $("usage-models").append(el("tr", {}, el("td", { colspan: "6", class: "muted" }, `No LLM calls in the last ${usage.days} days.`)));
  if (!usage.by_conversation.length) $("usage-conversations").append(el("tr", {}, el("td", { colspan: "5", class: "muted" }, "No conversation used the LLM in this period.")));
}

// ---- page ------------------------------------------------------------------------------------

function show(view) {
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== view;
  for (const b of document.querySelectorAll(".kb-header .tabs button")) b.classList.toggle("secondary", b.dataset.view !== view);
  if (view === "usage") loadUsage();
}

async function start() {
  $("admin").hidden = false;
  $("me").textContent = session.user ? `${session.user.name} (${session.user.role})` : "";
  $("logout").addEventListener("click", () => session.logout());
  try {
    defaults = await load("/api/v1/admin/defaults");
  } catch (error) {
    for (const panel of document.querySelectorAll("[data-panel], .kb-header .tabs")) panel.hidden = true;
    $("denied").hidden = false;
    $("denied").textContent = `${error.message}. Log out and log in as an admin.`;
    return;
  }
  for (const b of document.querySelectorAll(".kb-header .tabs button")) b.addEventListener("click", () => show(b.dataset.view));
  $("server-min-relevance").textContent = String(defaults.min_relevance);
  $("min_retrieval_confidence").placeholder = `default ${defaults.min_relevance}`;
  if (Intl.supportedValuesOf) $("timezones").replaceChildren(...Intl.supportedValuesOf("timeZone").map((z) => el("option", { value: z })));
  $("bh-enabled").addEventListener("change", () => {
    showBusinessHours($("bh-enabled").checked);
    if ($("bh-enabled").checked && !$("bh-timezone").value) {
      $("bh-timezone").value = "America/Sao_Paulo";
      renderWeekly(Object.fromEntries(["mon", "tue", "wed", "thu", "fri"].map((d) => [d, [{ opens: "09:00", closes: "18:00" }]])));
    }
  });
  $("add-holiday").addEventListener("click", () => $("holidays").append(holidayRow()));
  $("policy").addEventListener("submit", savePolicy);
  $("policy-defaults").addEventListener("click", async () => { clearErrors($("policy")); fillPolicy(defaults.policy, await load("/api/v1/admin/intents")); status("policy-status", "Defaults filled in: save to apply them.", true); });
  $("choices").replaceChildren(...Object.keys(CHOICES).map(choiceFieldset));
  $("llm").addEventListener("submit", saveLlm);
  $("usage-days").addEventListener("change", loadUsage);
  describeServer();
  const [policy, intents, llm] = await Promise.all([load("/api/v1/admin/policy"), load("/api/v1/admin/intents"), load("/api/v1/admin/llm")]);
  fillPolicy(policy, intents);
  fillLlm(llm);
  document.body.dataset.ready = "1";
}

withLogin($("login"), start);
