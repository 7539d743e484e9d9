// Shared by the pages' scripts (ES modules that import what they use): rendering messages, a WebSocket
// that reconnects, the page's language, and the team's login, token and API calls.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// Files come from an API that wants the login token, so they are fetched, not linked. A customer's file
// never opens as a page of this origin (an SVG or HTML file's script would read the login): plain raster
// images are drawn in an <img>, anything else is saved as a download.
const INLINE_IMAGES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

function showsInline(mimeType) {
  return INLINE_IMAGES.includes((mimeType || "").split(";")[0].trim().toLowerCase());
}

async function fetchMedia(messageId, index) {
  const response = await authFetch(`/api/v1/media/${messageId}/${index}`).catch(() => null);
  return response && response.ok ? response.blob() : null;
}

export async function showImage(messageId, index, img) {
  const blob = await fetchMedia(messageId, index);
  if (blob && showsInline(blob.type)) img.src = URL.createObjectURL(blob);
}

export async function downloadMedia(messageId, index, fileName) {
  const blob = await fetchMedia(messageId, index);
  if (!blob) return;
  const url = URL.createObjectURL(new Blob([blob], { type: "application/octet-stream" }));
  const link = el("a", { href: url, download: fileName || "file" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export function renderContent(message) {
  const content = message.content || {};
  const parts = [];
  (content.attachments || []).forEach((a, index) => {
    const label = `${a.kind}${a.file_name ? ": " + a.file_name : ""}`;
    if (a.rejected) { parts.push(el("div", { class: "attachment rejected" }, `${label} (refused: ${a.rejected})`)); return; }
    if (!a.path) { parts.push(el("div", { class: "attachment" }, `${label} (not received)`)); return; }
    if ((a.kind === "image" || a.kind === "sticker") && showsInline(a.mime_type)) {
      const img = el("img", { class: "attachment-image", alt: label, "data-attachment": String(index) });
      if (session.token) showImage(message.id, index, img);
      parts.push(img);
    } else {
      const link = el("a", { href: "#", class: "attachment", "data-attachment": String(index) }, `📎 ${label}`);
      link.addEventListener("click", (e) => { e.preventDefault(); downloadMedia(message.id, index, a.file_name); });
      parts.push(link);
    }
  });
  if (content.location) {
    const l = content.location;
    parts.push(el("div", { class: "location" }, `📍 ${[l.name, l.address].filter(Boolean).join(", ") || ""} (${l.latitude}, ${l.longitude})`));
  }
  if (content.contact_card) parts.push(el("div", { class: "contact-card" }, `👤 ${content.contact_card.name}${content.contact_card.phone ? " · " + content.contact_card.phone : ""}`));
  return parts;
}

export function renderMessage(message, { showDecision = false, onResend = null } = {}) {
  const who = message.author === "customer" ? "customer" : message.author;
  const bubble = el("div", { class: `bubble from-${who}`, "data-message-id": message.id, "data-author": message.author });
  if (message.text) bubble.append(el("div", { class: "text" }, message.text));
  bubble.append(...renderContent(message));
  const suppressed = message.delivery_status === "suppressed";
  if (suppressed) bubble.classList.add("suppressed");
  if (message.delivery_status) {
    const said = message.delivery_status === "failed" ? `not delivered: ${message.delivery_error || "the channel refused it"}`
      : suppressed ? t("not sent: {reason}", { reason: t(whySuppressed(message)) }) : message.delivery_status;
    const status = el("div", { class: `delivery delivery-${message.delivery_status}`, "data-delivery": message.delivery_status }, said);
    if (message.delivery_status === "failed" && onResend) {
      const resend = el("button", { class: "secondary small resend", type: "button" }, "Resend");
      resend.addEventListener("click", () => onResend(message));
      status.append(" ", resend);
    }
    bubble.append(status);
  }
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
    if (d.suppressed) parts.push(`suppressed: ${t(d.suppressed)}`);
    if (d.outside_business_hours) parts.push("outside business hours");
    if (d.usage && d.usage.length) {
      const tokens = d.usage.reduce((n, u) => n + u.input_tokens + u.output_tokens, 0);
      const cost = d.usage.reduce((n, u) => n + u.cost_usd, 0);
      parts.push(`${tokens} tokens · US$ ${cost.toFixed(4)}`);
    }
    const attrs = d.suppressed ? { class: "decision", "data-suppressed": "1" } : { class: "decision" };
    if (parts.length) bubble.append(el("div", attrs, parts.join(" | ")));
  }
  return bubble;
}

// A bot reply kept from the customer: why, as its decision record says.
function whySuppressed(message) {
  return (message.decision && message.decision.suppressed) || "a human took the conversation first";
}

export function upsertMessage(container, message, options) {
  const existing = container.querySelector(`[data-message-id="${message.id}"]`);
  const node = renderMessage(message, options);
  if (existing) existing.replaceWith(node); else container.append(node);
  container.scrollTop = container.scrollHeight;
}

// Returns a sender: what is sent while the socket is down is dropped (typing indicators only). `url` may
// be async, and return null when there is nothing to connect to; `onClosed(code)` may say not to
// reconnect (false).
export function liveSocket(url, onEvent, onReconnect, onClosed = null) {
  let delay = 500, ws = null;
  function retry() { setTimeout(connect, delay); delay = Math.min(delay * 2, 10000); }
  async function connect() {
    let address;
    try { address = await url(); } catch (e) { retry(); return; }
    if (!address) return;
    ws = new WebSocket(address);
    ws.onopen = () => { delay = 500; document.body.dataset.live = "1"; if (onReconnect) onReconnect(); };
    ws.onmessage = (e) => onEvent(JSON.parse(e.data));
    ws.onclose = async (e) => {
      document.body.dataset.live = "0";
      if (onClosed && !(await onClosed(e.code))) return;
      retry();
    };
  }
  connect();
  return (data) => { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(data)); };
}

// A socket of the team's pages (`path` on this host), with the login's access token. The server closes it
// with 4401 when the token is not current: it is renewed and the socket reconnects, unless the session
// has ended (logout, a new password, deactivation): then back to the login form.
export function staffSocket(path, onEvent, onReconnect) {
  const base = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;
  let token = null;
  async function url() {
    token = await freshToken();
    if (!token) { session.ended(); return null; }
    return `${base}${path}?token=${encodeURIComponent(token)}`;
  }
  async function closed(code) {
    if (code !== 4401) return true;
    let renewed;
    try { renewed = await renewToken(token); } catch (e) { return true; }  // offline: try again later
    if (!renewed) { session.ended(); return false; }
    return true;
  }
  return liveSocket(url, onEvent, onReconnect, closed);
}

// The page's language: the server writes its catalog (English is the key) and the patterns of the
// hand-off reasons as JSON in #i18n; a page without it reads English.
const i18nElement = document.getElementById("i18n");
const i18n = i18nElement ? JSON.parse(i18nElement.textContent) : { catalog: {}, reasons: [] };

// Why the bot handed off, in the page's language (else as written).
export function reasonText(reason) {
  for (const [pattern, replacement] of i18n.reasons) {
    const found = new RegExp(pattern);
    if (found.test(reason)) return reason.replace(found, replacement);
  }
  return reason;
}

// The text in the page's language, with its {placeholders} filled in.
export function t(text, values = {}) {
  const template = i18n.catalog[text] || text;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function newId() {
  return (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

// Log in once for the inbox and the knowledge base: the tokens live in localStorage. The access token
// lives 15 minutes; it is renewed with the refresh token a minute before it runs out, or when the
// server answers 401, once (other tabs may renew it too: they take turns, and the newest wins). When
// renewing fails the session has ended (logout, a new password, deactivation): back to the login form.
const TOKEN = "atende:token", REFRESH = "atende:refresh", USER = "atende:user";
const RENEW_BEFORE_MS = 60000;

export const session = {
  get token() { return localStorage.getItem(TOKEN); },
  get user() { return JSON.parse(localStorage.getItem(USER) || "null"); },
  store(body) {
    localStorage.setItem(TOKEN, body.token); localStorage.setItem(REFRESH, body.refresh_token);
    localStorage.setItem(USER, JSON.stringify(body.user));
  },
  // Forget the tokens and show the login form.
  ended() { [TOKEN, REFRESH, USER].forEach((key) => localStorage.removeItem(key)); location.reload(); },
  // End the session on the server too (every tab's and device's tokens stop working), then the form.
  async logout() {
    try { await authFetch("/api/v1/auth/logout", { method: "POST" }, false); } catch (e) { /* ended anyway */ }
    session.ended();
  },
};

function expiresAt(token) {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return payload.exp * 1000;
  } catch (e) { return 0; }
}

let renewing = null;

// A new pair of tokens for the refresh token, unless another tab already renewed `stale`. Null when the
// session has ended.
function renewToken(stale) {
  if (!renewing) {
    const renew = async () => {
      const current = session.token;
      if (current && current !== stale && expiresAt(current) - Date.now() > RENEW_BEFORE_MS) return current;
      const refreshToken = localStorage.getItem(REFRESH);
      if (!refreshToken) return null;
      const response = await fetch("/api/v1/auth/refresh", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: refreshToken }),
      }).catch(() => null);
      if (!response) throw new Error("offline");
      if (!response.ok) return localStorage.getItem(REFRESH) !== refreshToken ? session.token : null;
      const body = await response.json();
      session.store(body);
      return body.token;
    };
    // One tab renews at a time: a refresh token works once, so two tabs must not spend the same one.
    const turn = navigator.locks ? navigator.locks.request("atende:renew", renew) : renew();
    renewing = turn.finally(() => { renewing = null; });
  }
  return renewing;
}

// The access token to send now: renewed first when it runs out within a minute.
export async function freshToken() {
  const token = session.token;
  if (token && expiresAt(token) - Date.now() > RENEW_BEFORE_MS) return token;
  return renewToken(token);
}

// fetch() with the login: on a 401 the token is renewed and the request made once more; when the
// session has ended, back to the login form.
export async function authFetch(path, options = {}, endOnRefusal = true) {
  const attempt = async (token) => fetch(path, { ...options, headers: { ...(options.headers || {}), Authorization: `Bearer ${token}` } });
  const token = await freshToken();
  let response = token ? await attempt(token) : null;
  if (!response || response.status === 401) {
    const renewed = await renewToken(token);
    response = renewed ? await attempt(renewed) : null;
  }
  if (!response || response.status === 401) {
    if (endOnRefusal) session.ended();
    throw new Error("logged out");
  }
  return response;
}

export async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (options.body && !(options.body instanceof FormData)) headers["Content-Type"] = "application/json";
  const response = await authFetch(path, { ...options, headers });
  if (response.status === 204) return null;
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && body.detail) || response.statusText);
  return body;
}

// The login form: e-mail and password, then, when the server asks for a second step, the authenticator
// app's code (``verify``) or, where the tenant requires two-factor authentication, its set-up first
// (``enrol``: the QR code, the code, then the recovery codes, shown this once).
export function withLogin(form, start) {
  if (session.token && localStorage.getItem(REFRESH)) { start(); return; }
  form.hidden = false;
  const part = (id) => form.querySelector(`#${id}`);
  const error = form.querySelector(".error");
  const credentials = form.querySelectorAll("[type=email], [type=password]");
  let step = null, finished = null;
  const post = async (path, data) => {
    const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
    return { status: response.status, ok: response.ok, body: await response.json().catch(() => ({})) };
  };
  const done = (login) => {
    session.store(login);
    form.hidden = true;
    start();
  };
  const askForCode = async (second) => {
    step = second;
    for (const input of credentials) input.disabled = true;
    let hint = t("Type the 6-digit code from your authenticator app, or a recovery code.");
    if (step.second_step === "enrol") {
      const setup = await post("/api/v1/auth/2fa/enrol/setup", { ticket: step.ticket });
      if (!setup.ok) { error.textContent = setup.body.detail || t("Login failed"); return; }
      part("login-qr").innerHTML = setup.body.qr_svg;  // drawn by our server from the otpauth:// URI
      hint = t("Your organisation requires two-factor authentication: scan this code with an authenticator app (or type the key {secret}), then type the 6-digit code it shows.", { secret: setup.body.secret });
    }
    part("login-code-hint").textContent = hint;
    part("login-second-step").hidden = false;
    part("login-code").required = true;
    part("login-code").focus();
  };
  const showRecoveryCodes = (codes) => {
    part("login-qr").replaceChildren();
    part("login-code").hidden = true;
    part("login-code-hint").textContent = t("Two-factor authentication is on. Keep these recovery codes somewhere safe: each works once, and they are not shown again.");
    part("login-recovery").replaceChildren(...codes.map((code) => el("li", {}, code)));
    part("login-recovery").hidden = false;
    form.querySelector("[type=submit]").textContent = t("Continue");
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    if (finished) { done(finished); return; }
    if (!step) {
      const [email, password] = [...credentials].map((input) => input.value);
      const { ok, body } = await post("/api/v1/auth/login", { email, password });
      if (!ok) { error.textContent = body.detail || t("Login failed"); return; }
      if (body.second_step) { await askForCode(body); return; }
      done(body);
      return;
    }
    const path = step.second_step === "enrol" ? "/api/v1/auth/2fa/enrol/confirm" : "/api/v1/auth/2fa/verify";
    const { status, ok, body } = await post(path, { ticket: step.ticket, code: part("login-code").value.trim() });
    if (status === 401) {  // the ticket ran out: start again from the password
      step = null;
      for (const input of credentials) input.disabled = false;
      part("login-second-step").hidden = true;
      part("login-code").required = false;
    }
    if (!ok) { error.textContent = body.detail || t("Login failed"); return; }
    if (step.second_step === "verify") { done(body); return; }
    finished = body.login;
    showRecoveryCodes(body.recovery_codes);
  });
}
