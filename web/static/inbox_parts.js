// Pieces of the inbox drawn from data alone: a ticket's SLA badge, a row of the contact's custom fields.
import { el, t } from "./common.js";

// Time left by the queue's SLA, or that it was missed.
export function slaBadge(ticket) {
  if (!ticket.sla || ticket.status === "closed") return "";
  if (ticket.sla.breached.length) return el("span", { class: "sla sla-breached", "data-sla": "breached" }, t("SLA missed"));
  const due = ticket.status === "pending" ? ticket.sla.first_response_due : ticket.sla.resolution_due;
  if (!due) return "";
  const minutes = Math.max(0, Math.round((new Date(due) - Date.now()) / 60000));
  return el("span", { class: "sla", "data-sla": "due" }, t("⏱ {minutes} min left", { minutes }));
}

export function fieldRow(key = "", value = "") {
  const remove = el("button", { class: "secondary small", type: "button", "aria-label": "remove field" }, "×");
  const row = el("div", { class: "field-row" },
    el("input", { class: "field-key", value: key, placeholder: t("field"), "aria-label": "field name", maxlength: "64" }),
    el("input", { class: "field-value", value, placeholder: t("value"), "aria-label": "field value", maxlength: "500" }), remove);
  remove.addEventListener("click", () => row.remove());
  return row;
}
