// The agents' inbox: tickets on the left, the whole conversation on the right, live over a WebSocket.
"use strict";

(() => {
  const state = { status: "pending", ticket: null };
  const $ = (id) => document.getElementById(id);

  async function loadTickets() {
    const tickets = await api(`/api/v1/tickets?status=${state.status}`);
    const list = $("tickets");
    list.replaceChildren(...tickets.map((t) => {
      const item = el("li", { "data-ticket-id": t.id, class: state.ticket && state.ticket.id === t.id ? "active" : "" },
        el("span", { class: "status" }, t.status), el("strong", {}, `#${t.protocol}`), el("div", { class: "muted" }, `${t.contact || ""} · ${t.reason}`));
      item.addEventListener("click", () => openTicket(t.id));
      return item;
    }));
    if (!tickets.length) list.append(el("li", { class: "muted" }, "No tickets here."));
  }

  function showTicketHeader(ticket) {
    $("ticket-header").hidden = false;
    $("ticket-title").textContent = `#${ticket.protocol} · ${ticket.contact || ""}`;
    $("ticket-reason").textContent = `${ticket.status} · escalated because ${ticket.reason}`;
    $("accept").hidden = ticket.status !== "pending";
    $("close").hidden = ticket.status === "closed";
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
    for (const m of detail.messages) upsertMessage(box, m, VIEW);
    for (const li of document.querySelectorAll("#tickets li")) li.classList.toggle("active", li.dataset.ticketId === id);
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
    $("accept").addEventListener("click", async () => { state.ticket = await api(`/api/v1/tickets/${state.ticket.id}/accept`, { method: "POST" }); showTicketHeader(state.ticket); loadTickets(); });
    $("close").addEventListener("click", async () => { state.ticket = await api(`/api/v1/tickets/${state.ticket.id}/close`, { method: "POST" }); showTicketHeader(state.ticket); loadTickets(); });
    $("reply").addEventListener("submit", async (e) => {
      e.preventDefault();
      const input = $("reply-text"), file = $("reply-file");
      const text = input.value.trim();
      let message;
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
