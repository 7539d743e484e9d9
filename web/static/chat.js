// The customer's chat page: post messages, show replies (with sources) as they arrive.
import { el, renderMessage, upsertMessage, liveSocket, newId } from "./common.js";

const tenant = document.querySelector("main").dataset.tenant;
const list = document.getElementById("messages");
const base = `/api/v1/webchat/${encodeURIComponent(tenant)}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The server issues the session: its id, and the token that alone reads, posts and listens. Both are
// kept per company in localStorage, so the conversation is there again after a reload.
const keys = { session: `atende:${tenant}:session`, token: `atende:${tenant}:token` };
let chat = null;

function stored() {
  const session = localStorage.getItem(keys.session), token = localStorage.getItem(keys.token);
  return session && token ? { session, token } : null;
}

let starting = null;
function startSession() {
  starting = starting || (async () => {
    for (let delay = 1000; ; delay = Math.min(delay * 2, 30000)) {
      try {
        const response = await fetch(`${base}/sessions`, { method: "POST" });
        if (response.ok) {
          const issued = await response.json();
          localStorage.setItem(keys.session, issued.session_id);
          localStorage.setItem(keys.token, issued.token);
          chat = { session: issued.session_id, token: issued.token };
          return chat;
        }
        const after = Number(response.headers.get("Retry-After"));
        if (after > 0) delay = after * 1000;
      } catch (error) { /* offline: try again */ }
      await sleep(delay);
    }
  })().finally(() => { starting = null; });
  return starting;
}

async function session() {
  return chat || (chat = stored()) || startSession();
}

function forgetSession() {
  localStorage.removeItem(keys.session);
  localStorage.removeItem(keys.token);
  chat = null;
}

const authorized = (s) => ({ Authorization: `Bearer ${s.token}` });

async function loadHistory() {
  const s = await session();
  const response = await fetch(`${base}/sessions/${encodeURIComponent(s.session)}/messages`, { headers: authorized(s) });
  if (response.status === 401) { forgetSession(); await startSession(); return; }  // a token no longer honoured
  if (response.ok) for (const m of await response.json()) showMessage(m);
}

// A message the server stored: it takes the place of the bubble that was waiting for it, if any.
function showMessage(message) {
  if (message.author === "customer" && !list.querySelector(`[data-message-id="${message.id}"]`)) {
    const waiting = [...list.querySelectorAll(".pending")].find((b) => b.dataset.text === message.text);
    if (waiting) waiting.dataset.messageId = message.id;
  }
  upsertMessage(list, message);
}

// The reply as the model writes it; the stored message replaces it when the turn is done.
function showDraft(event) {
  let draft = list.querySelector(`.draft[data-reply-to="${event.reply_to}"]`);
  if (!draft) {
    draft = renderMessage({ id: `draft-${event.reply_to}`, author: "bot", text: "", citations: [] });
    draft.classList.add("draft");
    draft.dataset.replyTo = event.reply_to;
    draft.dataset.text = "";
    list.append(draft);
  }
  draft.dataset.text += event.text;
  draft.querySelector(".text").textContent = draft.dataset.text;
  list.scrollTop = list.scrollHeight;
}

// The agent's typing shows for a few seconds; the customer's is sent at most every 2 s.
let typingTimer = null, lastTyping = 0;
function showTyping() {
  document.getElementById("typing").textContent = "digitando…";
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => { document.getElementById("typing").textContent = ""; }, 4000);
}

const wsBase = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;
const onEvent = (event) => {
  if (event.type === "reply.delta") showDraft(event);
  if (event.type === "typing") showTyping();
  if (event.type === "message.created") {
    document.getElementById("typing").textContent = "";
    if (event.message.author !== "customer") list.querySelectorAll(".draft").forEach((d) => d.remove());
    showMessage(event.message);
  }
};
let say = () => {};
(async () => {
  await loadHistory().catch(() => {});  // offline: the socket loads it once it connects
  // The token rides in the query string: a browser cannot set headers on a WebSocket.
  say = liveSocket(
    () => `${wsBase}${base}/sessions/${encodeURIComponent(chat.session)}/events?token=${encodeURIComponent(chat.token)}`,
    onEvent, loadHistory);
})();

document.getElementById("text").addEventListener("input", () => {
  if (Date.now() - lastTyping < 2000) return;
  lastTyping = Date.now();
  say({ type: "typing" });
});

// A post that fails on the way (no network, the server busy or away) is tried again with the same
// message id, so the server stores it once however many tries reach it; a refusal is not retried.
const ATTEMPTS = 6;

async function post(text, messageId, bubble) {
  for (let attempt = 1, delay = 1000; ; attempt++, delay = Math.min(delay * 2, 30000)) {
    const s = await session();
    let response = null;
    try {
      response = await fetch(`${base}/messages`, {
        method: "POST", headers: { "Content-Type": "application/json", ...authorized(s) },
        body: JSON.stringify({ session_id: s.session, text, message_id: messageId }),
      });
    } catch (error) { /* the network: try again */ }
    if (response && response.ok) return { accepted: await response.json() };
    const retried = !response || response.status >= 500 || response.status === 429;
    if (!retried || attempt >= ATTEMPTS) return { problem: response ? await response.json().catch(() => ({})) : {} };
    showSending(bubble, "retrying", "não enviada, tentando de novo…");
    const after = response ? Number(response.headers.get("Retry-After")) : 0;
    await sleep(after > 0 ? after * 1000 : delay);
    showSending(bubble, "sending", "enviando…");
  }
}

function showSending(bubble, state, said) {
  bubble.querySelector(".sending")?.remove();
  if (state) bubble.append(el("div", { class: "sending muted", "data-sending": state }, said));
}

document.getElementById("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = document.getElementById("text");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  const messageId = newId();
  const bubble = renderMessage({ id: `pending-${messageId}`, author: "customer", text, citations: [] });
  bubble.classList.add("pending");
  bubble.dataset.text = text;
  showSending(bubble, "sending", "enviando…");
  list.append(bubble);
  list.scrollTop = list.scrollHeight;
  const result = await post(text, messageId, bubble);
  if (result.accepted) {
    const id = result.accepted.id;
    const shown = list.querySelector(`[data-message-id="${id}"]`);
    if (shown && shown !== bubble) { bubble.remove(); return; }  // the live socket told of it first
    bubble.dataset.messageId = id;
    bubble.classList.remove("pending");
    showSending(bubble, null);
  } else {
    bubble.classList.remove("pending");
    showSending(bubble, "failed", `⚠ não enviada: ${result.problem.detail || "sem conexão"}`);
  }
});

// The greeting's topics (what the knowledge base covers): a click asks about one.
for (const topic of document.querySelectorAll("#greeting .topic")) {
  topic.addEventListener("click", () => {
    document.getElementById("text").value = topic.textContent;
    document.getElementById("composer").requestSubmit();
  });
}
