// The customer's chat page: post messages, show replies (with sources) as they arrive.
import { renderMessage, upsertMessage, liveSocket, newId } from "./common.js";

const tenant = document.querySelector("main").dataset.tenant;
const key = `atende:${tenant}:session`;
const sessionId = localStorage.getItem(key) || newId();
localStorage.setItem(key, sessionId);
const list = document.getElementById("messages");
const base = `/api/v1/webchat/${encodeURIComponent(tenant)}`;

async function loadHistory() {
  const response = await fetch(`${base}/sessions/${encodeURIComponent(sessionId)}/messages`);
  if (response.ok) for (const m of await response.json()) upsertMessage(list, m);
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
const say = liveSocket(() => `${wsBase}${base}/sessions/${encodeURIComponent(sessionId)}/events`,
  (event) => {
    if (event.type === "reply.delta") showDraft(event);
    if (event.type === "typing") showTyping();
    if (event.type === "message.created") {
      document.getElementById("typing").textContent = "";
      if (event.message.author !== "customer") list.querySelectorAll(".draft").forEach((d) => d.remove());
      upsertMessage(list, event.message);
    }
  },
  loadHistory);

document.getElementById("text").addEventListener("input", () => {
  if (Date.now() - lastTyping < 2000) return;
  lastTyping = Date.now();
  say({ type: "typing" });
});

document.getElementById("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = document.getElementById("text");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  const response = await fetch(`${base}/messages`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ session_id: sessionId, text, message_id: newId() }),
  });
  if (response.ok) {
    const accepted = await response.json();
    upsertMessage(list, { id: accepted.id, author: "customer", text, citations: [] });
  } else {
    const problem = await response.json().catch(() => ({}));
    upsertMessage(list, { id: newId(), author: "bot", text: `⚠ ${problem.detail || "message not sent"}`, citations: [] });
  }
});

// The greeting's topics (what the knowledge base covers): a click asks about one.
for (const topic of document.querySelectorAll("#greeting .topic")) {
  topic.addEventListener("click", () => {
    document.getElementById("text").value = topic.textContent;
    document.getElementById("composer").requestSubmit();
  });
}
