// Integrations: the tenant's API keys (shown once, revocable) and webhook subscriptions with their deliveries.
import { el, session, api, withLogin } from "./common.js";

const $ = (id) => document.getElementById(id);
let lastWebhooks = "";

function when(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "never";
}

function deny(error) {
  $("denied").hidden = false;
  $("denied").textContent = /admins/.test(error.message) ? `${error.message}. Log out and log in as an admin.` : error.message;
}

function keyRow(key) {
  const row = el("tr", { "data-key-id": key.id, class: key.revoked_at ? "key-revoked" : "key-active" });
  row.append(el("td", {}, key.name, el("div", { class: "muted" }, key.created_by ? `by ${key.created_by}` : "")));
  row.append(el("td", {}, el("code", {}, `${key.prefix}…`)));
  row.append(el("td", {}, when(key.created_at)));
  row.append(el("td", { class: "last-used" }, when(key.last_used_at)));
  row.append(el("td", { class: "key-status" }, key.revoked_at ? `revoked ${when(key.revoked_at)}` : "active"));
  const actions = el("td");
  if (!key.revoked_at) {
    const revoke = el("button", { class: "secondary small", type: "button" }, "Revoke");
    revoke.setAttribute("aria-label", `Revoke ${key.name}`);
    revoke.addEventListener("click", async () => {
      if (!confirm(`Revoke the key "${key.name}"? Calls with it will be refused.`)) return;
      await api(`/api/v1/admin/api-keys/${key.id}`, { method: "DELETE" });
      await loadKeys();
    });
    actions.append(revoke);
  }
  row.append(actions);
  return row;
}

async function loadKeys() {
  const keys = await api("/api/v1/admin/api-keys");
  $("key-rows").replaceChildren(...keys.map(keyRow));
  $("keys").hidden = keys.length === 0;
  $("no-keys").hidden = keys.length !== 0;
}

async function createKey(event) {
  event.preventDefault();
  const status = $("key-status");
  status.className = "form-status";
  try {
    const created = await api("/api/v1/admin/api-keys", { method: "POST", body: JSON.stringify({ name: $("key-name").value.trim() }) });
    $("new-key-value").textContent = created.key;
    $("new-key-curl").textContent = `curl -H "Authorization: Bearer ${created.key}" ${location.origin}/api/v1/public/conversations`;
    $("new-key").hidden = false;
    $("key-name").value = "";
    status.textContent = "";
    await loadKeys();
  } catch (error) {
    status.className = "form-status failed";
    status.textContent = `Not created: ${error.message}`;
  }
}

function deliveryRow(delivery) {
  const row = el("tr", { "data-delivery-id": delivery.id, class: `delivery-${delivery.status}` });
  row.append(el("td", {}, when(delivery.created_at)));
  row.append(el("td", {}, delivery.event_type));
  row.append(el("td", { class: `delivery-status status-${delivery.status}` }, delivery.status));
  row.append(el("td", { class: "attempts" }, String(delivery.attempts)));
  const last = delivery.last_error || (delivery.last_status_code ? `HTTP ${delivery.last_status_code}` : "");
  row.append(el("td", { class: "last-error" }, last));
  return row;
}

function webhookCard(hook, deliveries) {
  const card = el("article", { class: "webhook", "data-webhook-id": hook.id });
  const remove = el("button", { class: "secondary small", type: "button" }, "Delete");
  remove.setAttribute("aria-label", `Delete webhook ${hook.url}`);
  remove.addEventListener("click", async () => {
    if (!confirm(`Stop sending events to ${hook.url}?`)) return;
    await api(`/api/v1/admin/webhooks/${hook.id}`, { method: "DELETE" });
    lastWebhooks = "";
    await loadWebhooks();
  });
  card.append(el("h3", {}, el("code", { class: "webhook-url" }, hook.url), " ", remove));
  card.append(el("p", { class: "muted" }, `${hook.events.join(", ")} · secret ${hook.secret}`));
  card.append(el("p", { class: "webhook-counts" }, `${hook.delivered} delivered · ${hook.pending} pending · ${hook.failed} failed`));
  if (deliveries.length) {
    const table = el("table", { class: "grid deliveries" });
    table.append(el("thead", {}, el("tr", {}, ...["When", "Event", "Status", "Tries", "Last answer"].map((h) => el("th", {}, h)))));
    table.append(el("tbody", {}, ...deliveries.map(deliveryRow)));
    card.append(table);
  } else {
    card.append(el("p", { class: "muted" }, "Nothing sent yet."));
  }
  return card;
}

async function loadWebhooks() {
  const hooks = await api("/api/v1/admin/webhooks");
  const deliveries = await Promise.all(hooks.map((h) => api(`/api/v1/admin/webhooks/${h.id}/deliveries?limit=20`)));
  const snapshot = JSON.stringify([hooks, deliveries]);
  if (snapshot === lastWebhooks) return;
  lastWebhooks = snapshot;
  $("webhooks").replaceChildren(...hooks.map((h, i) => webhookCard(h, deliveries[i])));
  $("no-webhooks").hidden = hooks.length !== 0;
}

async function createWebhook(event) {
  event.preventDefault();
  const status = $("webhook-status");
  for (const node of document.querySelectorAll("#webhook-form [data-error-for]")) node.textContent = "";
  const events = [...document.querySelectorAll("#event-checks input:checked")].map((box) => box.value);
  try {
    const created = await api("/api/v1/admin/webhooks", { method: "POST", body: JSON.stringify({ url: $("webhook-url").value.trim(), events }) });
    $("new-secret-value").textContent = created.secret;
    $("new-secret").hidden = false;
    $("webhook-url").value = "";
    status.className = "form-status ok";
    status.textContent = "Added.";
    lastWebhooks = "";
    await loadWebhooks();
  } catch (error) {
    const field = /^(url|events):/.exec(error.message);
    if (field) document.querySelector(`#webhook-form [data-error-for="${field[1]}"]`).textContent = error.message;
    status.className = "form-status failed";
    status.textContent = "Not added.";
  }
}

async function start() {
  $("integrations").hidden = false;
  $("me").textContent = session.user ? `${session.user.name} (${session.user.role})` : "";
  $("logout").addEventListener("click", () => session.logout());
  try {
    const events = await api("/api/v1/admin/webhooks/events");
    $("event-checks").replaceChildren(...events.map((name) => {
      const box = el("input", { type: "checkbox", value: name, id: `event-${name}` });
      box.checked = true;
      return el("label", { class: "check", for: `event-${name}` }, box, name);
    }));
    await loadKeys();
    await loadWebhooks();
  } catch (error) {
    $("keys-panel").hidden = true;
    $("webhooks-panel").hidden = true;
    deny(error);
    document.body.dataset.ready = "1";
    return;
  }
  $("key-form").addEventListener("submit", createKey);
  $("webhook-form").addEventListener("submit", createWebhook);
  $("new-key-done").addEventListener("click", () => { $("new-key").hidden = true; $("new-key-value").textContent = ""; });
  $("new-secret-done").addEventListener("click", () => { $("new-secret").hidden = true; $("new-secret-value").textContent = ""; });
  setInterval(() => loadWebhooks().catch(() => {}), 2000);
  document.body.dataset.ready = "1";
}

withLogin($("login"), start);
