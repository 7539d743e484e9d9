// The agents' inbox: tickets on the left, the whole conversation on the right, live over a WebSocket.
"use strict";

(() => {
  const state = { token: localStorage.getItem("atende:token"), user: JSON.parse(localStorage.getItem("atende:user") || "null"), status: "pending", ticket: null };
  const $ = (id) => document.getElementById(id);

  async function api(path, options = {}) {
    const response = await fetch(path, { ...options, headers: { "Content-Type": "application/json", Authorization: `Bearer ${state.token}`, ...(options.headers || {}) } });
    if (response.status === 401) { logout(); throw new Error("logged out"); }
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error((body && body.detail) || response.statusText);
    return body;
  }

  function logout() {
    localStorage.removeItem("atende:token"); localStorage.removeItem("atende:user");
    location.reload();
  }

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

  async function openTicket(id) {
    const detail = await api(`/api/v1/tickets/${id}`);
    state.ticket = detail.ticket;
    showTicketHeader(detail.ticket);
    const box = $("messages");
    box.replaceChildren();
    for (const m of detail.messages) upsertMessage(box, m, { showDecision: true });
    for (const li of document.querySelectorAll("#tickets li")) li.classList.toggle("active", li.dataset.ticketId === id);
  }

  function onEvent(event) {
    if (event.type === "ticket.updated") {
      if (state.ticket && state.ticket.id === event.ticket.id) { state.ticket = event.ticket; showTicketHeader(event.ticket); }
      loadTickets();
    } else if (event.type === "message.created" && state.ticket && event.conversation_id === state.ticket.conversation_id) {
      upsertMessage($("messages"), event.message, { showDecision: true });
    }
  }

  function start() {
    $("inbox").hidden = false;
    $("me").textContent = state.user ? state.user.name : "";
    for (const button of document.querySelectorAll(".tabs button")) {
      button.addEventListener("click", () => {
        state.status = button.dataset.status;
        for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("secondary", b !== button);
        loadTickets();
      });
    }
    $("logout").addEventListener("click", logout);
    $("accept").addEventListener("click", async () => { state.ticket = await api(`/api/v1/tickets/${state.ticket.id}/accept`, { method: "POST" }); showTicketHeader(state.ticket); loadTickets(); });
    $("close").addEventListener("click", async () => { state.ticket = await api(`/api/v1/tickets/${state.ticket.id}/close`, { method: "POST" }); showTicketHeader(state.ticket); loadTickets(); });
    $("reply").addEventListener("submit", async (e) => {
      e.preventDefault();
      const input = $("reply-text");
      const text = input.value.trim();
      if (!text) return;
      const message = await api(`/api/v1/tickets/${state.ticket.id}/messages`, { method: "POST", body: JSON.stringify({ text }) });
      input.value = "";
      upsertMessage($("messages"), message, { showDecision: true });
    });
    const wsBase = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;
    liveSocket(() => `${wsBase}/api/v1/inbox/events?token=${encodeURIComponent(state.token)}`, onEvent,
      () => { loadTickets(); if (state.ticket) openTicket(state.ticket.id); });
  }

  if (state.token) { start(); return; }
  $("login").hidden = false;
  $("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    const response = await fetch("/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: $("email").value, password: $("password").value }) });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { $("login-error").textContent = body.detail || "Login failed"; return; }
    state.token = body.token; state.user = body.user;
    localStorage.setItem("atende:token", body.token); localStorage.setItem("atende:user", JSON.stringify(body.user));
    $("login").hidden = true;
    start();
  });
})();
