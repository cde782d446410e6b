/**
 * Search: a wamid opens its message; a phone number (wa_id) or a BSUID opens the
 * contact; otherwise events by type and time range (and number) are listed.
 */
import { api, query } from "../api";
import { h, link, table, when } from "../dom";
import type { EventList } from "../types";
import { eventSummary } from "../../src/events/summary";
import { eventSubject } from "../../src/events/subject";
import { short } from "./live";
import { classify } from "../search-text";

/** The date picker's "until" is a day to include: the API's until is the next day's midnight (UTC), as a date means. */
function dayAfter(date: string | null): string | null {
  if (date === null || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return date;
  return new Date(Date.parse(date) + 86_400_000).toISOString().slice(0, 10);
}

export async function search(main: HTMLElement, params: URLSearchParams) {
  const said = h("div", {});
  const field = (name: string, placeholder: string, type = "text") => h("input", { name, placeholder, type, value: params.get(name) ?? "", "aria-label": placeholder });
  const q = field("q", "wamid or phone number", "search");
  const form = h(
    "form",
    { class: "filters", onsubmit: (e: Event) => (e.preventDefault(), go(new FormData(e.target as HTMLFormElement), said)) },
    q,
    h("button", { type: "submit" }, "Find"),
    h("span", { class: "muted" }, "or events by"),
    field("type", "type (message.* …)"),
    field("from", "number (wa_id)"),
    field("since", "since", "date"),
    field("until", "until (that day included)", "date"),
    h("button", { type: "submit" }, "List"),
  );
  main.replaceChildren(h("h1", {}, "Search"), form, said);
  q.focus();
  const listed = ["type", "from", "since", "until"].some((k) => params.get(k));
  if (!listed) return;
  const page = await api<EventList>(`/events${query({ type: params.get("type"), from: params.get("from"), since: params.get("since"), until: dayAfter(params.get("until")), limit: 100, cursor: params.get("cursor") })}`);
  main.append(
    table(
      ["received", "type", "number", "message", "summary"],
      page.data.map((e) => {
        const { wamid, waId } = eventSubject(e.type, (e.data ?? {}) as Record<string, unknown>);
        return [when(e.received_at), h("a", { href: `#/event/${encodeURIComponent(e.id)}` }, e.type), waId ? link("contact", waId, `+${waId}`) : "", wamid ? link("message", wamid, short(wamid)) : "", eventSummary(e as Parameters<typeof eventSummary>[0])];
      }),
      "No events match.",
    ),
    page.next_cursor ? h("a", { class: "more", href: `#/search?${new URLSearchParams({ ...Object.fromEntries(params), cursor: page.next_cursor }).toString()}` }, "Older →") : "",
  );
}

function go(form: FormData, said: HTMLElement) {
  const q = String(form.get("q") ?? "");
  const target = classify(q);
  if (target) return void (location.hash = `#/${target.route}/${encodeURIComponent(target.value)}`);
  // Text that names nothing: said, rather than a list that ignores it.
  if (q.trim() !== "") return void said.replaceChildren(h("p", { class: "muted", role: "status" }, `"${q.trim()}" is not a wamid, a phone number or a user id; events are listed by type, number and dates.`));
  const rest = new URLSearchParams();
  for (const k of ["type", "from", "since", "until"]) {
    const v = String(form.get(k) ?? "").trim();
    if (v) rest.set(k, v.replace(/^\+/, ""));
  }
  location.hash = `#/search?${rest.toString()}`;
}
