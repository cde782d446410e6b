/**
 * One person: their inbound and outbound messages on one timeline (their events, newest
 * first), opt-out state, and erasure behind a typed confirmation (the number itself).
 */
import { api, query } from "../api";
import { badge, h, link, problem, section, table, when } from "../dom";
import type { ContactAnswer, ErasedAnswer, EventList } from "../types";
import { eventSummary } from "../../src/events/summary";
import { eventSubject } from "../../src/events/subject";
import { short } from "./live";

export async function contact(main: HTMLElement, waId: string, params: URLSearchParams) {
  const cursor = params.get("cursor");
  const [person, events] = await Promise.all([api<ContactAnswer>(`/contacts/${encodeURIComponent(waId)}`).catch(() => null), api<EventList>(`/events${query({ from: waId, limit: 200, cursor })}`)]);
  main.replaceChildren(
    h("h1", {}, `Contact +${waId}`),
    person
      ? h(
          "dl",
          { class: "facts" },
          h("dt", {}, "profile name"),
          h("dd", {}, person.profile_name ?? "—"),
          h("dt", {}, "marketing"),
          h("dd", {}, person.marketing_opt_out ? badge("opted out", "dead") : badge("not opted out", "done")),
        )
      : h("p", { class: "muted" }, "No contact row: only events name this number."),
    section(
      "Timeline",
      table(
        ["received", "direction", "type", "message", "summary"],
        events.data.map((e) => {
          const { wamid } = eventSubject(e.type, (e.data ?? {}) as Record<string, unknown>);
          const outbound = e.type === "message.status" || e.type === "message.echo" || e.type.startsWith("message.fallback") || e.type === "message.stale";
          return [when(e.received_at), outbound ? "→ to them" : "← from them", h("a", { href: `#/event/${encodeURIComponent(e.id)}` }, e.type), wamid ? link("message", wamid, short(wamid)) : "", eventSummary(e as Parameters<typeof eventSummary>[0])];
        }),
        "No events about this number.",
      ),
      events.next_cursor ? h("a", { class: "more", href: `#/contact/${encodeURIComponent(waId)}?${new URLSearchParams({ cursor: events.next_cursor }).toString()}` }, "Older →") : "",
    ),
    section("Erase", erasure(waId)),
  );
}

function erasure(waId: string): HTMLElement {
  const typed = h("input", { placeholder: `type ${waId} to confirm`, "aria-label": "confirm the number to erase", autocomplete: "off" });
  const button = h("button", { type: "submit", class: "danger", disabled: true }, "Erase everything about this person");
  const out = h("div", {});
  typed.addEventListener("input", () => (button.disabled = typed.value.replace(/^\+/, "") !== waId));
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const erased = await api<ErasedAnswer>(`/contacts/${encodeURIComponent(waId)}`, { method: "DELETE" });
          out.replaceChildren(h("p", { class: "ok" }, `Erased: ${Object.entries(erased.erased).map(([k, n]) => `${k} ${n}`).join(", ")}`));
        } catch (err) {
          out.replaceChildren(problem(err));
        }
      },
    },
    typed,
    button,
  );
  return h("div", {}, h("p", { class: "muted" }, "Deletes their events, messages, statuses, SMS and state, and cuts them out of stored webhooks. It cannot be undone."), form, out);
}
