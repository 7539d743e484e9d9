// Shared by the chat page and the inbox: rendering messages and a WebSocket that reconnects.
"use strict";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function renderMessage(message, { showDecision = false } = {}) {
  const who = message.author === "customer" ? "customer" : message.author;
  const bubble = el("div", { class: `bubble from-${who}`, "data-message-id": message.id, "data-author": message.author });
  bubble.append(el("div", { class: "text" }, message.text));
  if (message.citations && message.citations.length) {
    const list = el("ul", { class: "citations" });
    for (const c of message.citations) {
      const where = (c.heading_path || c.title || c.document) + (c.page ? ` (p. ${c.page})` : "");
      list.append(el("li", { class: "citation", "data-document": c.document }, `${where} (${c.document})`));
    }
    bubble.append(list);
  }
  if (showDecision && message.decision) {
    const d = message.decision;
    const parts = [];
    const c = d.classification;
    if (c) {
      const reasons = c.churn_reasons && c.churn_reasons.length ? ` (${c.churn_reasons.join(", ")})` : "";
      parts.push(`${c.intent} · ${c.sentiment} · churn ${c.churn_risk}${reasons}`);
    }
    if (d.rule) parts.push(`${d.action}: ${d.rule}${d.reason ? " — " + d.reason : ""}`);
    if (d.outside_business_hours) parts.push("outside business hours");
    if (d.usage && d.usage.length) {
      const tokens = d.usage.reduce((n, u) => n + u.input_tokens + u.output_tokens, 0);
      const cost = d.usage.reduce((n, u) => n + u.cost_usd, 0);
      parts.push(`${tokens} tokens · US$ ${cost.toFixed(4)}`);
    }
    if (parts.length) bubble.append(el("div", { class: "decision" }, parts.join(" | ")));
  }
  return bubble;
}

function upsertMessage(container, message, options) {
  const existing = container.querySelector(`[data-message-id="${message.id}"]`);
  const node = renderMessage(message, options);
  if (existing) existing.replaceWith(node); else container.append(node);
  container.scrollTop = container.scrollHeight;
}

function liveSocket(url, onEvent, onReconnect) {
  let delay = 500;
  function connect() {
    const ws = new WebSocket(url());
    ws.onopen = () => { delay = 500; document.body.dataset.live = "1"; if (onReconnect) onReconnect(); };
    ws.onmessage = (e) => onEvent(JSON.parse(e.data));
    ws.onclose = () => { document.body.dataset.live = "0"; setTimeout(connect, delay); delay = Math.min(delay * 2, 10000); };
  }
  connect();
}

function newId() {
  return (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

// Log in once for the inbox and the knowledge base: the token lives in localStorage.
const session = {
  get token() { return localStorage.getItem("atende:token"); },
  get user() { return JSON.parse(localStorage.getItem("atende:user") || "null"); },
  logout() { localStorage.removeItem("atende:token"); localStorage.removeItem("atende:user"); location.reload(); },
};

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${session.token}`, ...(options.headers || {}) };
  if (options.body && !(options.body instanceof FormData)) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) { session.logout(); throw new Error("logged out"); }
  if (response.status === 204) return null;
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && body.detail) || response.statusText);
  return body;
}

function withLogin(form, start) {
  if (session.token) { start(); return; }
  form.hidden = false;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const email = form.querySelector("[type=email]").value, password = form.querySelector("[type=password]").value;
    const response = await fetch("/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }) });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { form.querySelector(".error").textContent = body.detail || "Login failed"; return; }
    localStorage.setItem("atende:token", body.token); localStorage.setItem("atende:user", JSON.stringify(body.user));
    form.hidden = true;
    start();
  });
}
