// The agents' inbox: tickets on the left, the whole conversation in the middle, the contact on the
// right, all live over a WebSocket; usable by keyboard (press ? for the shortcuts).
import { el, upsertMessage, staffSocket, reasonText, t, session, api, withLogin } from "./common.js";
import { fieldRow, slaBadge } from "./inbox_parts.js";

// A tag in its colour, set through the CSSOM: the pages' policy refuses inline style attributes.
function tagBadge(tag) {
  const badge = el("span", { class: "tag" }, tag.name);
  badge.style.background = tag.color;
  return badge;
}

(() => {
  // botAnswering: the open ticket's conversation is the bot's again (its tickets are closed).
  const state = { status: "pending", ticket: null, botAnswering: false, lists: { pending: [], open: [], closed: [] } };
  const $ = (id) => document.getElementById(id);
  let say = () => {};  // sends on the inbox socket, once it is open
  let lastTyping = 0;  // "typing" goes out at most every 2 s

  async function loadTickets() {
    const query = $("search").value.trim();
    const search = query ? "&q=" + encodeURIComponent(query) : "";
    const statuses = state.status === "closed" ? ["pending", "open", "closed"] : ["pending", "open"];
    const lists = await Promise.all(statuses.map((s) => api(`/api/v1/tickets?status=${s}${search}`)));
    statuses.forEach((s, i) => { state.lists[s] = lists[i]; });
    renderTickets();
  }

  function renderTickets() {
    const tickets = state.lists[state.status];
    const list = $("tickets");
    list.replaceChildren(...tickets.map((ticket) => {
      const item = el("li", { "data-ticket-id": ticket.id, class: state.ticket && state.ticket.id === ticket.id ? "active" : "" },
        el("span", { class: "status" }, t(ticket.status)), el("strong", {}, `#${ticket.protocol}`),
        ticket.unread ? el("span", { class: "unread", "data-unread": String(ticket.unread) }, String(ticket.unread)) : "",
        el("div", { class: "muted" }, `${ticket.contact || ""} · ${reasonText(ticket.reason)}`),
        ...(ticket.tags || []).map(tagBadge),
        slaBadge(ticket));
      item.addEventListener("click", () => openTicket(ticket.id));
      return item;
    }));
    if (!tickets.length) list.append(el("li", { class: "muted" }, t("No tickets here.")));
    let total = 0;
    for (const status of ["pending", "open"]) {
      const unread = state.lists[status].reduce((n, ticket) => n + (ticket.unread || 0), 0);
      $(`unread-${status}`).textContent = unread ? String(unread) : "";
      total += unread;
    }
    document.title = `${total ? `(${total}) ` : ""}Atende · inbox`;
  }

  function showTicketHeader(ticket) {
    $("ticket-header").hidden = false;
    $("ticket-title").textContent = `#${ticket.protocol} · ${ticket.contact || ""}`;
    $("ticket-reason").textContent = t("{status} · escalated because {reason}", { status: t(ticket.status), reason: reasonText(ticket.reason) });
    $("take-over").hidden = !state.botAnswering;
    $("accept").hidden = ticket.status !== "pending";
    $("close").hidden = ticket.status === "closed";
    $("transfer-open").hidden = ticket.status === "closed";
    $("return-to-bot").hidden = ticket.status === "closed";
    $("reply").hidden = ticket.status === "closed";
  }

  // A POST's answer can arrive after the live event that already moved the message on (the channel
  // refused it, or took it): the newer news stays.
  const heardAt = {};
  function showAnswered(message, askedAt) {
    if ((heardAt[message.id] || 0) >= askedAt) return;
    upsertMessage($("messages"), message, VIEW);
  }

  async function resend(message) {
    const askedAt = Date.now();
    showAnswered(await api(`/api/v1/tickets/${state.ticket.id}/messages/${message.id}/resend`, { method: "POST" }), askedAt);
  }
  const VIEW = { showDecision: true, onResend: resend };

  // A ticket of the open conversation changed: closed, the bot answers it again; any other, people do.
  function heardOfTicket(ticket) {
    if (!state.ticket || ticket.conversation_id !== state.ticket.conversation_id) return;
    state.botAnswering = ticket.status === "closed";
    if (ticket.id === state.ticket.id) state.ticket = ticket;
    showTicketHeader(state.ticket);
  }

  async function openTicket(id) {
    const detail = await api(`/api/v1/tickets/${id}`);
    state.ticket = detail.ticket;
    state.botAnswering = detail.bot_answering;
    showTicketHeader(detail.ticket);
    const box = $("messages");
    box.replaceChildren();
    const timeline = [...detail.messages.map((m) => ({ at: m.created_at, m })), ...detail.history.map((h) => ({ at: h.created_at, h }))];
    timeline.sort((a, b) => a.at.localeCompare(b.at));
    for (const item of timeline) {
      if (item.m) upsertMessage(box, item.m, VIEW); else box.append(renderHistory(item.h));
    }
    for (const li of document.querySelectorAll("#tickets li")) li.classList.toggle("active", li.dataset.ticketId === id);
    $("typing").textContent = "";
    $("conversation-summary").hidden = true;
    markSeen(id);
    loadAssist(id);
    loadContact(id);
  }

  // The ticket went where this agent cannot follow (another queue): the pane empties.
  function leaveConversation() {
    state.ticket = null;
    for (const id of ["ticket-header", "transfer", "assist", "reply", "contact-panel", "quick-replies"]) $(id).hidden = true;
    $("typing").textContent = "";
    $("messages").replaceChildren(el("p", { class: "empty" }, t("Pick a ticket on the left.")));
  }

  // Read up to now: its unread count goes to zero here and for the rest of the team.
  async function markSeen(id) {
    await api(`/api/v1/tickets/${id}/seen`, { method: "POST" }).catch(() => null);
    for (const status of ["pending", "open", "closed"]) {
      for (const ticket of state.lists[status]) if (ticket.id === id) ticket.unread = 0;
    }
    renderTickets();
  }

  // The hand-off summary and suggested replies (with their sources), to insert, edit and send.
  async function loadAssist(id) {
    const assist = await api(`/api/v1/tickets/${id}/assist`).catch(() => null);
    if (!assist || !state.ticket || state.ticket.id !== id) return;
    const s = assist.summary;
    const mood = [s.intent, s.sentiment, s.churn_risk != null ? `churn ${s.churn_risk}` : null].filter(Boolean).join(" · ");
    $("summary").replaceChildren(
      el("div", {}, el("strong", {}, t("Wants: ")), s.wants || "—"),
      el("div", {}, el("strong", {}, t("Bot tried: ")), s.bot_tried.join("; ")),
      el("div", {}, el("strong", {}, t("Escalated because: ")), reasonText(s.escalated_because)),
      el("div", { class: "muted" }, mood + (s.churn_reasons.length ? ` (${s.churn_reasons.join(", ")})` : "")));
    $("suggestions").replaceChildren(...assist.suggestions.map((g) => {
      const use = el("button", { class: "secondary small", type: "button" }, t("Use"));
      use.addEventListener("click", () => { $("reply-note").checked = false; $("reply-text").value = g.text; $("reply-text").focus(); });
      const sources = g.citations.map((c) => c.title || c.document).join(", ");
      return el("div", { class: "suggestion", "data-suggestion": g.source }, el("div", {}, g.text), el("div", { class: "muted" }, `📄 ${sources}`), use);
    }));
    $("assist").hidden = false;
  }

  async function summarizeConversation() {
    const box = $("conversation-summary"), id = state.ticket.id;
    box.hidden = false;
    box.replaceChildren(el("div", { class: "muted" }, t("Summarizing…")));
    const summary = await api(`/api/v1/tickets/${id}/summary?lang=${document.documentElement.lang.startsWith("pt") ? "pt" : "en"}`, { method: "POST" });
    if (state.ticket.id !== id) return;
    box.replaceChildren(...summary.lines.map((line) => el("div", { class: "summary-line" }, line)),
      el("div", { class: "muted", "data-summary-source": summary.source }, t("by {source}", { source: summary.source })));
  }

  // Who the customer is, where else they write from, and their tickets on every channel.
  // The panel's latest load or save wins: an older answer that arrives later is dropped.
  let contactAsked = 0;
  async function loadContact(id) {
    const asked = ++contactAsked;
    const contact = await api(`/api/v1/tickets/${id}/contact`).catch(() => null);
    if (!contact || asked !== contactAsked || !state.ticket || state.ticket.id !== id) return;
    $("contact-error").textContent = "";
    showContact(contact, id);
  }

  function showContact(contact, id) {
    $("contact-name").value = contact.name || "";
    $("contact-email").value = contact.email || "";
    $("contact-phone").value = contact.phone || "";
    $("contact-fields").replaceChildren(...Object.entries(contact.custom_fields).map(([k, v]) => fieldRow(k, v)));
    $("contact-channels").replaceChildren(...contact.channels.map((c) =>
      el("li", { "data-channel": c.channel_type }, `${c.channel_type} · ${c.external_id}`)));
    $("past-tickets").replaceChildren(...contact.tickets.map((past) => {
      const here = past.id === id;
      const item = el("li", { "data-past-ticket": past.id, class: here ? "active" : "" },
        el("strong", {}, `#${past.protocol}`), ` ${t(past.status)} · ${past.channel_type} · ${past.queue}`,
        el("div", { class: "muted" }, `${new Date(past.created_at).toLocaleDateString()} · ${reasonText(past.reason)}` +
          (past.csat_rating ? ` · ${t("rated {rating}/5", { rating: past.csat_rating })}` : "") + (here ? ` ${t("(this conversation)")}` : "")));
      if (!here) item.addEventListener("click", () => openTicket(past.id).catch(() => null));
      return item;
    }));
    $("contact-panel").hidden = false;
  }

  async function saveContact(e) {
    e.preventDefault();
    const custom_fields = {};
    for (const row of document.querySelectorAll("#contact-fields .field-row")) {
      const key = row.querySelector(".field-key").value.trim();
      if (key) custom_fields[key] = row.querySelector(".field-value").value;
    }
    const body = { name: $("contact-name").value, email: $("contact-email").value, phone: $("contact-phone").value, custom_fields };
    // The PUT answers with the saved panel: shown as is, so "Saved" stays (reloading it cleared it).
    const id = state.ticket.id, asked = ++contactAsked;
    let contact;
    try {
      contact = await api(`/api/v1/tickets/${id}/contact`, { method: "PUT", body: JSON.stringify(body) });
    } catch (error) { if (asked === contactAsked) $("contact-error").textContent = error.message; return; }
    loadTickets();
    if (asked !== contactAsked || !state.ticket || state.ticket.id !== id) return;
    showContact(contact, id);
    $("contact-error").textContent = t("Saved");
  }

  const HISTORY = {
    created: () => t("Ticket opened"), reopened: () => t("Ticket reopened"), accepted: (h) => t("{actor} took the ticket", { actor: h.actor }),
    assigned: (h) => t("Assigned to {agent} ({queue})", { agent: agentName(h.data.assignee_id), queue: h.data.queue }),
    transferred: (h) => t("{actor} transferred it to {target}", { actor: h.actor, target: h.data.assignee_id ? agentName(h.data.assignee_id) : queueName(h.data.queue_id) }) + (h.data.note ? ": " + h.data.note : ""),
    note: (h) => t("Note by {actor}: {text}", { actor: h.actor, text: h.data.text }),
    returned_to_bot: (h) => t("{actor} handed the conversation back to the bot", { actor: h.actor }),
    closed: (h) => t("{actor} closed the ticket", { actor: h.actor || t("Someone") }),
  };
  const team = { queues: [], agents: [] };
  const agentName = (id) => (team.agents.find((a) => a.id === id) || { name: t("an agent") }).name;
  const queueName = (id) => (team.queues.find((q) => q.id === id) || { name: t("another queue") }).name;

  function renderHistory(h) {
    const text = (HISTORY[h.kind] || (() => h.kind))(h);
    return el("div", { class: `history history-${h.kind}`, "data-history": h.kind }, text);
  }

  async function loadTeam() {
    [team.queues, team.agents] = await Promise.all([api("/api/v1/team/queues"), api("/api/v1/team/agents")]);
    $("transfer-queue").replaceChildren(el("option", { value: "" }, t("Same queue")), ...team.queues.map((q) => el("option", { value: q.id }, q.name)));
    $("transfer-agent").replaceChildren(el("option", { value: "" }, t("Anyone in the queue")), ...team.agents.map((a) => el("option", { value: a.id }, `${a.name} (${t(a.presence)})`)));
  }

  // A burst of ticket events reloads the list once.
  let reloading = null;
  function reloadSoon() { clearTimeout(reloading); reloading = setTimeout(loadTickets, 150); }

  // "Someone is typing", for a few seconds after the last sign of it.
  let typingTimer = null;
  function showTyping(event) {
    if (!state.ticket || event.conversation_id !== state.ticket.conversation_id) return;
    if (event.who === "agent" && session.user && event.user_id === session.user.id) return;
    $("typing").textContent = event.who === "customer" ? t("The customer is typing…") : t("{name} is typing…", { name: event.name });
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { $("typing").textContent = ""; }, 4000);
  }

  function onEvent(event) {
    if (event.type === "ticket.created" || event.type === "ticket.updated") {
      heardOfTicket(event.ticket);
      reloadSoon();
    } else if (event.type === "typing") {
      showTyping(event);
    } else if (event.type === "message.created" || event.type === "message.updated") {
      const open = state.ticket && event.conversation_id === state.ticket.conversation_id;
      heardAt[event.message.id] = Date.now();
      if (open) upsertMessage($("messages"), event.message, VIEW);
      if (event.type !== "message.created" || event.message.author !== "customer") return;
      if (open) { $("typing").textContent = ""; markSeen(state.ticket.id); return; }
      for (const status of ["pending", "open"]) {
        for (const ticket of state.lists[status]) if (ticket.conversation_id === event.conversation_id) ticket.unread = (ticket.unread || 0) + 1;
      }
      renderTickets();
    }
  }

  // Keyboard: shortcuts act when no text box has the focus; Esc leaves one.
  const SHORTCUTS = {
    j: () => step(1), k: () => step(-1),
    r: () => { $("reply-note").checked = false; $("reply-text").focus(); },
    n: () => { $("reply-note").checked = true; $("reply-text").focus(); },
    a: () => { if (!$("accept").hidden) $("accept").click(); },
    t: () => { if (!$("transfer-open").hidden) $("transfer-open").click(); },
    x: () => { if (!$("close").hidden && confirm(t("Close this ticket? The customer will be asked to rate the service."))) $("close").click(); },
    "/": () => $("search").focus(),
    "?": () => $("shortcuts").showModal(),
  };

  const TICKET_KEYS = ["r", "n", "a", "t", "x"];  // act on the open ticket: nothing without one

  function step(delta) {
    const tickets = state.lists[state.status];
    if (!tickets.length) return;
    const at = state.ticket ? tickets.findIndex((ticket) => ticket.id === state.ticket.id) : -1;
    const next = tickets[Math.min(tickets.length - 1, Math.max(0, at + delta))];
    if (next && (!state.ticket || next.id !== state.ticket.id)) openTicket(next.id);
  }

  function onKey(e) {
    const typing = e.target.closest("input, textarea, select, dialog");
    if (e.key === "Escape" && typing && e.target.blur) { e.target.blur(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey || !$("login").hidden) return;
    const action = SHORTCUTS[e.key];
    if (!action || (TICKET_KEYS.includes(e.key) && !state.ticket)) return;
    e.preventDefault();
    action();
  }

  function showTab(status) {
    state.status = status;
    for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("secondary", b.dataset.status !== status);
    return loadTickets();
  }

  // The person takes the conversation from the bot: its ticket opens (or reopens), theirs.
  async function takeOver() {
    const taken = await api(`/api/v1/conversations/${state.ticket.conversation_id}/take-over`, { method: "POST" });
    await Promise.all([showTab("open"), openTicket(taken.id)]);
  }

  function start() {
    $("inbox").hidden = false;
    $("me").textContent = session.user ? session.user.name : "";
    for (const button of document.querySelectorAll(".tabs button")) {
      button.addEventListener("click", () => showTab(button.dataset.status));
    }
    $("logout").addEventListener("click", () => session.logout());
    $("lang").addEventListener("change", () => { location.href = `/inbox?lang=${$("lang").value}`; });
    api("/api/v1/me/presence").then((p) => { $("presence").value = p.presence; });
    $("presence").addEventListener("change", async () => {
      const changed = await api("/api/v1/me/presence", { method: "PUT", body: JSON.stringify({ presence: $("presence").value }) });
      if (changed.assigned.length) loadTickets();
    });
    loadTeam();
    let searching = null;
    $("search").addEventListener("input", () => { clearTimeout(searching); searching = setTimeout(loadTickets, 250); });
    $("reply-note").addEventListener("change", () => {
      $("reply-text").placeholder = $("reply-note").checked ? t("Write a note for the team…") : t("Reply to the customer…");
    });
    // Typing "/" looks up quick replies, filled in for this ticket; picking one puts it in the box to edit.
    // Anything else tells the customer (and the team) that the agent is typing.
    $("reply-text").addEventListener("input", async () => {
      const value = $("reply-text").value, list = $("quick-replies");
      if (!state.ticket) return;
      if (!value.startsWith("/")) {
        list.hidden = true;
        if (value && !$("reply-note").checked && Date.now() - lastTyping > 2000) {
          lastTyping = Date.now();
          say({ type: "typing", ticket_id: state.ticket.id });
        }
        return;
      }
      const found = await api(`/api/v1/tickets/${state.ticket.id}/quick-replies?q=${encodeURIComponent(value)}`);
      list.replaceChildren(...found.map((r) => {
        const item = el("li", { "data-shortcut": r.shortcut }, el("strong", {}, `/${r.shortcut}`), " ", r.text);
        item.addEventListener("click", () => { $("reply-text").value = r.text; list.hidden = true; $("reply-text").focus(); });
        return item;
      }));
      list.hidden = !found.length;
    });
    $("transfer-open").addEventListener("click", () => { $("transfer").hidden = !$("transfer").hidden; $("transfer-error").textContent = ""; });
    $("transfer").addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { note: $("transfer-note").value.trim() };
      if ($("transfer-queue").value) body.queue_id = $("transfer-queue").value;
      if ($("transfer-agent").value) body.assignee_id = $("transfer-agent").value;
      try {
        state.ticket = await api(`/api/v1/tickets/${state.ticket.id}/transfer`, { method: "POST", body: JSON.stringify(body) });
      } catch (error) { $("transfer-error").textContent = error.message; return; }
      $("transfer").hidden = true; $("transfer-note").value = "";
      openTicket(state.ticket.id).catch(leaveConversation); loadTickets();
    });
    $("return-to-bot").addEventListener("click", async () => { state.ticket = await api(`/api/v1/tickets/${state.ticket.id}/return-to-bot`, { method: "POST" }); showTicketHeader(state.ticket); openTicket(state.ticket.id); loadTickets(); });
    $("accept").addEventListener("click", async () => { heardOfTicket(await api(`/api/v1/tickets/${state.ticket.id}/accept`, { method: "POST" })); loadTickets(); });
    $("close").addEventListener("click", async () => { heardOfTicket(await api(`/api/v1/tickets/${state.ticket.id}/close`, { method: "POST" })); loadTickets(); });
    $("take-over").addEventListener("click", takeOver);
    $("summarize").addEventListener("click", summarizeConversation);
    $("contact-form").addEventListener("submit", saveContact);
    $("contact-add-field").addEventListener("click", () => { const row = fieldRow(); $("contact-fields").append(row); row.querySelector("input").focus(); });
    $("reply").addEventListener("submit", async (e) => {
      e.preventDefault();
      const input = $("reply-text"), file = $("reply-file");
      const text = input.value.trim();
      const askedAt = Date.now();
      let message;
      if ($("reply-note").checked) {
        if (!text) return;
        await api(`/api/v1/tickets/${state.ticket.id}/notes`, { method: "POST", body: JSON.stringify({ text }) });
        input.value = "";
        openTicket(state.ticket.id);
        return;
      }
      if (file.files.length) {
        const form = new FormData();
        form.append("file", file.files[0]);
        form.append("text", text);
        message = await api(`/api/v1/tickets/${state.ticket.id}/attachments`, { method: "POST", body: form });
        file.value = "";
      } else if (text) {
        message = await api(`/api/v1/tickets/${state.ticket.id}/messages`, { method: "POST", body: JSON.stringify({ text }) });
      } else {
        return;
      }
      input.value = "";
      showAnswered(message, askedAt);
    });
    document.addEventListener("keydown", onKey);
    say = staffSocket("/api/v1/inbox/events", onEvent, () => { loadTickets(); if (state.ticket) openTicket(state.ticket.id); });
  }

  withLogin($("login"), start);
})();
