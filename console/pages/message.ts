/**
 * One message's whole life: Meta's statuses with their times and error codes (with what
 * each code means), the sweeper's moves, the SMS with the provider's answer, the pricing
 * category; an SMS whose outcome is unknown can be resent or marked sent (confirmed first).
 */
import { api } from "../api";
import { badge, h, link, problem, section, table, when } from "../dom";
import type { MessageAnswer } from "../types";
import { errorMeaning } from "../../src/whatsapp/error-codes";

export async function message(main: HTMLElement, wamid: string) {
  const m = await api<MessageAnswer>(`/messages/${encodeURIComponent(wamid)}`);
  const pricing = (m.pricing ?? null) as { category?: string } | null;
  const f = m.fallback;
  main.replaceChildren(
    h("h1", {}, "Message"),
    h(
      "dl",
      { class: "facts" },
      ...fact("wamid", h("code", {}, m.wamid)),
      ...fact("direction", m.direction),
      ...(m.status ? fact("status", badge(m.status)) : []),
      ...(pricing?.category ? fact("pricing category", pricing.category) : []),
      ...(m.phone_number_id ? fact("business number id", m.phone_number_id) : []),
      ...(f?.to ? fact("to", link("contact", f.to, `+${f.to}`)) : []),
      ...(m.inbound?.sender ? fact("from", link("contact", String(m.inbound.sender), `+${String(m.inbound.sender)}`)) : []),
    ),
    section("Timeline", timeline(m)),
    f ? section("SMS fallback", fallback(f, wamid)) : "",
  );
}

const fact = (term: string, value: Node | string) => [h("dt", {}, term), h("dd", {}, value)];

/** Statuses and the sweeper's moves in one list, by time (the API orders them). */
function timeline(m: MessageAnswer): HTMLElement {
  const rows = m.fallback
    ? m.fallback.timeline.map((t) => {
        const extra = t as Record<string, unknown>;
        return [when(t.at), t.source === "status" ? "WhatsApp" : "sweeper", badge(t.state), describe(extra)];
      })
    : m.statuses.map((s) => [when(String(s.status_at ?? s.received_at)), "WhatsApp", badge(String(s.status)), describe(s)]);
  return table(["when", "from", "state", "detail"], rows, "No statuses yet.");
}

/** A status's error codes with their meaning, or the sweeper's reason. */
function describe(x: Record<string, unknown>): Node | string {
  const errors = Array.isArray(x.errors) ? (x.errors as { code?: number | string; title?: string }[]) : [];
  if (errors.length > 0) return h("span", {}, ...errors.map((e) => h("span", { class: "code" }, `${e.code ?? "?"}: ${errorMeaning(e.code) ?? e.title ?? "unknown code"}`)));
  const why = x.why ?? x.reason ?? x.error;
  if (typeof why === "string") return why;
  if (typeof x.error_code === "number") return `${x.error_code}: ${errorMeaning(x.error_code) ?? "unknown code"}`;
  return "";
}

function fallback(f: NonNullable<MessageAnswer["fallback"]>, wamid: string): HTMLElement {
  const sms = (f.sms ?? null) as Record<string, unknown> | null;
  const box = h(
    "div",
    {},
    h("dl", { class: "facts" }, ...fact("state", badge(f.state)), ...fact("deadline", when(f.deadline)), ...fact("expires", when(f.expires_at)), ...(f.error_code ? fact("error", `${f.error_code}: ${errorMeaning(f.error_code) ?? "unknown code"}`) : [])),
  );
  if (!sms) {
    box.append(h("p", { class: "muted" }, "No SMS for this message."));
    return box;
  }
  box.append(
    h(
      "dl",
      { class: "facts" },
      ...fact("SMS", badge(String(sms.state))),
      ...fact("attempts", String(sms.attempts)),
      ...fact("provider status", String(sms.provider_status ?? "—")),
      ...fact("provider answer", h("code", {}, String(sms.provider_response ?? "—"))),
      ...(sms.last_error ? fact("last error", String(sms.last_error)) : []),
      ...fact("sent", when(sms.sent_at as string | null)),
    ),
  );
  if (sms.state === "unknown") box.append(resolveButtons(wamid));
  return box;
}

function resolveButtons(wamid: string): HTMLElement {
  const out = h("div", { class: "actions" });
  const act = (action: "resend" | "mark-sent", label: string, question: string) =>
    h(
      "button",
      {
        type: "button",
        onclick: async () => {
          if (!confirm(question)) return;
          try {
            await api(`/outbound/${encodeURIComponent(wamid)}/fallback`, { method: "POST", body: { action } });
            location.reload();
          } catch (err) {
            out.append(problem(err));
          }
        },
      },
      label,
    );
  out.append(
    act("resend", "Send the SMS again", "The provider may already have sent it. Send again, with the same Idempotency-Key?"),
    act("mark-sent", "Mark as sent", "Record this SMS as sent by the provider?"),
  );
  return out;
}
