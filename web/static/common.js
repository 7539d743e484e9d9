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
      const where = c.heading_path || c.title || c.document;
      list.append(el("li", { class: "citation", "data-document": c.document }, `${where} (${c.document})`));
    }
    bubble.append(list);
  }
  if (showDecision && message.decision) {
    const d = message.decision;
    const parts = [];
    if (d.classification) parts.push(`${d.classification.intent} · ${d.classification.sentiment} · churn ${d.classification.churn_risk}`);
    if (d.rule) parts.push(`${d.action}: ${d.rule}${d.reason ? " — " + d.reason : ""}`);
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
