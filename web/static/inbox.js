// The agents' inbox: tickets on the left, the whole conversation on the right, live over a WebSocket.
"use strict";

(() => {
  const state = { status: "pending", ticket: null };
  const $ = (id) => document.getElementById(id);

  async function loadTickets() {
    const query = $("search").value.trim();
    const tickets = await api(`/api/v1/tickets?status=${state.status}${query ? "&q=" + encodeURIComponent(query) : ""}`);
    const list = $("tickets");
    list.replaceChildren(...tickets.map((t) => {
      const item = el("li", { "data-ticket-id": t.id, class: state.ticket && state.ticket.id === t.id ? "active" : "" },
        el("span", { class: "status" }, t.status), el("strong", {}, `#${t.protocol}`), el("div", { class: "muted" }, `${t.contact || ""} · ${t.reason}`),
        ...(t.tags || []).map((tag) => el("span", { class: "tag", style: `background:${tag.color}` }, tag.name)),
        slaBadge(t));
      item.addEventListener("click", () => openTicket(t.id));
      return item;
    }));
    if (!tickets.length) list.append(el("li", { class: "muted" }, "No tickets here."));
  }

  // Time left by the queue's SLA, or that it was missed.
  function slaBadge(t) {
    if (!t.sla || t.status === "closed") return "";
    if (t.sla.breached.length) return el("span", { class: "sla sla-breached", "data-sla": "breached" }, "SLA missed");
    const due = t.status === "pending" ? t.sla.first_response_due : t.sla.resolution_due;
    if (!due) return "";
    const minutes = Math.max(0, Math.round((new Date(due) - Date.now()) / 60000));
    return el("span", { class: "sla", "data-sla": "due" }, `⏱ ${minutes} min left`);
  }

  function showTicketHeader(ticket) {
    $("ticket-header").hidden = false;
    $("ticket-title").textContent = `#${ticket.protocol} · ${ticket.contact || ""}`;
    $("ticket-reason").textContent = `${ticket.status} · escalated because ${ticket.reason}`;
    $("accept").hidden = ticket.status !== "pending";
    $("close").hidden = ticket.status === "closed";
    $("transfer-open").hidden = ticket.status === "closed";
    $("return-to-bot").hidden = ticket.status === "closed";
    $("reply").hidden = ticket.status === "closed";
  }

  async function resend(message) {
    const updated = await api(`/api/v1/tickets/${state.ticket.id}/messages/${message.id}/resend`, { method: "POST" });
    upsertMessage($("messages"), updated, VIEW);
  }
  const VIEW = { showDecision: true, onResend: resend };

  async function openTicket(id) {
    const detail = await api(`/api/v1/tickets/${id}`);
    state.ticket = detail.ticket;
    showTicketHeader(detail.ticket);
    const box = $("messages");
    box.replaceChildren();
    const timeline = [...detail.messages.map((m) => ({ at: m.created_at, m })), ...detail.history.map((h) => ({ at: h.created_at, h }))];
    timeline.sort((a, b) => a.at.localeCompare(b.at));
    for (const item of timeline) {
      if (item.m) upsertMessage(box, item.m, VIEW); else box.append(renderHistory(item.h));
    }
    for (const li of document.querySelectorAll("#tickets li")) li.classList.toggle("active", li.dataset.ticketId === id);
    loadAssist(id);
  }

  // The hand-off summary and suggested replies (with their sources), to insert, edit and send.
  async function loadAssist(id) {
    const assist = await api(`/api/v1/tickets/${id}/assist`).catch(() => null);
    if (!assist || !state.ticket || state.ticket.id !== id) return;
    const s = assist.summary;
    const mood = [s.intent, s.sentiment, s.churn_risk != null ? `churn ${s.churn_risk}` : null].filter(Boolean).join(" · ");
    $("summary").replaceChildren(
      el("div", {}, el("strong", {}, "Wants: "), s.wants || "—"),
      el("div", {}, el("strong", {}, "Bot tried: "), s.bot_tried.join("; ")),
      el("div", {}, el("strong", {}, "Escalated because: "), s.escalated_because),
      el("div", { class: "muted" }, mood + (s.churn_reasons.length ? ` (${s.churn_reasons.join(", ")})` : "")));
    $("suggestions").replaceChildren(...assist.suggestions.map((g) => {
      const use = el("button", { class: "secondary small", type: "button" }, "Use");
      use.addEventListener("click", () => { $("reply-text").value = g.text; $("reply-text").focus(); });
      const sources = g.citations.map((c) => c.title || c.document).join(", ");
      return el("div", { class: "suggestion", "data-suggestion": g.source }, el("div", {}, g.text), el("div", { class: "muted" }, `📄 ${sources}`), use);
    }));
    $("assist").hidden = false;
  }

  const HISTORY = {
    created: () => "Ticket opened", reopened: () => "Ticket reopened", accepted: (h) => `${h.actor} took the ticket`,
    assigned: (h) => `Assigned to ${agentName(h.data.assignee_id)} (${h.data.queue})`,
    transferred: (h) => `${h.actor} transferred it to ${h.data.assignee_id ? agentName(h.data.assignee_id) : queueName(h.data.queue_id)}${h.data.note ? ": " + h.data.note : ""}`,
    note: (h) => `Note by ${h.actor}: ${h.data.text}`, returned_to_bot: (h) => `${h.actor} handed the conversation back to the bot`,
    closed: (h) => `${h.actor || "Someone"} closed the ticket`,
  };
  const team = { queues: [], agents: [] };
  const agentName = (id) => (team.agents.find((a) => a.id === id) || { name: "an agent" }).name;
  const queueName = (id) => (team.queues.find((q) => q.id === id) || { name: "another queue" }).name;

  function renderHistory(h) {
    const text = (HISTORY[h.kind] || (() => h.kind))(h);
    return el("div", { class: `history history-${h.kind}`, "data-history": h.kind }, text);
  }

  async function loadTeam() {
    [team.queues, team.agents] = await Promise.all([api("/api/v1/team/queues"), api("/api/v1/team/agents")]);
    $("transfer-queue").replaceChildren(el("option", { value: "" }, "Same queue"), ...team.queues.map((q) => el("option", { value: q.id }, q.name)));
    $("transfer-agent").replaceChildren(el("option", { value: "" }, "Anyone in the queue"), ...team.agents.map((a) => el("option", { value: a.id }, `${a.name} (${a.presence})`)));
  }

  function onEvent(event) {
    if (event.type === "ticket.created" || event.type === "ticket.updated") {
      if (state.ticket && state.ticket.id === event.ticket.id) { state.ticket = event.ticket; showTicketHeader(event.ticket); }
      loadTickets();
    } else if ((event.type === "message.created" || event.type === "message.updated") && state.ticket && event.conversation_id === state.ticket.conversation_id) {
      upsertMessage($("messages"), event.message, VIEW);
    }
  }

  function start() {
    $("inbox").hidden = false;
    $("me").textContent = session.user ? session.user.name : "";
    for (const button of document.querySelectorAll(".tabs button")) {
      button.addEventListener("click", () => {
        state.status = button.dataset.status;
        for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("secondary", b !== button);
        loadTickets();
      });
    }
    $("logout").addEventListener("click", () => session.logout());
    api("/api/v1/me/presence").then((p) => { $("presence").value = p.presence; });
    $("presence").addEventListener("change", async () => {
      const changed = await api("/api/v1/me/presence", { method: "PUT", body: JSON.stringify({ presence: $("presence").value }) });
      if (changed.assigned.length) loadTickets();
    });
    loadTeam();
    let searching = null;
    $("search").addEventListener("input", () => { clearTimeout(searching); searching = setTimeout(loadTickets, 250); });
    // Typing "/" looks up quick replies, filled in for this ticket; picking one puts it in the box to edit.
    $("reply-text").addEventListener("input", async () => {
      const value = $("reply-text").value, list = $("quick-replies");
      if (!value.startsWith("/") || !state.ticket) { list.hidden = true; return; }
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
      openTicket(state.ticket.id); loadTickets();
    });
    $("return-to-bot").addEventListener("click", async () => { state.ticket = await api(`/api/v1/tickets/${state.ticket.id}/return-to-bot`, { method: "POST" }); showTicketHeader(state.ticket); openTicket(state.ticket.id); loadTickets(); });
    $("accept").addEventListener("click", async () => { state.ticket = await api(`/api/v1/tickets/${state.ticket.id}/accept`, { method: "POST" }); showTicketHeader(state.ticket); loadTickets(); });
    $("close").addEventListener("click", async () => { state.ticket = await api(`/api/v1/tickets/${state.ticket.id}/close`, { method: "POST" }); showTicketHeader(state.ticket); loadTickets(); });
    $("reply").addEventListener("submit", async (e) => {
      e.preventDefault();
      const input = $("reply-text"), file = $("reply-file");
      const text = input.value.trim();
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
      upsertMessage($("messages"), message, VIEW);
    });
    const wsBase = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;
    liveSocket(() => `${wsBase}/api/v1/inbox/events?token=${encodeURIComponent(session.token)}`, onEvent,
      () => { loadTickets(); if (state.ticket) openTicket(state.ticket.id); });
  }

  withLogin($("login"), start);
})();
