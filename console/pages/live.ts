/** Events as they arrive (the SSE stream), newest first; pause, filter by type and business number. */
import { badge, h, link, when } from "../dom";
import { follow } from "../stream";
import type { Envelope } from "../types";
import { eventSummary } from "../../src/events/summary";
import { eventSubject } from "../../src/events/subject";

const KEEP = 500;

export function live(main: HTMLElement, params: URLSearchParams): () => void {
  const controller = new AbortController();
  let paused = false;
  const held: Envelope[] = [];
  const rows = h("tbody", {});
  const state = badge("connecting", "pending");
  const type = h("input", { placeholder: "type, e.g. message.*", value: params.get("type") ?? "", "aria-label": "filter by type" });
  const phone = h("input", { placeholder: "phone_number_id", value: params.get("phone_number_id") ?? "", "aria-label": "filter by phone number id" });
  const pause = h("button", { type: "button" }, "Pause");
  const add = (e: Envelope) => {
    if (paused) return void held.push(e);
    rows.prepend(row(e));
    while (rows.childElementCount > KEEP) rows.lastElementChild?.remove();
  };
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? `Resume (${held.length})` : "Pause";
    if (!paused) held.splice(0).forEach(add);
  });
  const restart = () => {
    location.hash = `#/live?${new URLSearchParams(Object.entries({ type: type.value, phone_number_id: phone.value }).filter(([, v]) => v)).toString()}`;
  };
  const form = h("form", { class: "filters", onsubmit: (e: Event) => (e.preventDefault(), restart()) }, type, phone, h("button", { type: "submit" }, "Filter"), pause, state);
  main.replaceChildren(
    h("h1", {}, "Live"),
    form,
    h("table", { id: "live" }, h("thead", {}, h("tr", {}, ...["received", "type", "number", "message", "summary"].map((t) => h("th", {}, t)))), rows),
  );
  const filter = { type: params.get("type") ?? undefined, phone_number_id: params.get("phone_number_id") ?? undefined };
  const show = (s: string) => {
    state.textContent = s;
    state.className = `badge ${s === "live" ? "done" : s === "refused" ? "dead" : "pending"}`;
  };
  void follow(filter, add, show, controller.signal);
  return () => controller.abort();
}

function row(e: Envelope): HTMLElement {
  const { wamid, waId } = eventSubject(e.type, (e.data ?? {}) as Record<string, unknown>);
  return h(
    "tr",
    {},
    h("td", {}, when(e.received_at)),
    h("td", {}, h("a", { href: `#/event/${encodeURIComponent(e.id)}` }, e.type)),
    h("td", {}, waId ? link("contact", waId, `+${waId}`) : ""),
    h("td", {}, wamid ? link("message", wamid, short(wamid)) : ""),
    h("td", {}, eventSummary(e as Parameters<typeof eventSummary>[0])),
  );
}

export const short = (wamid: string) => (wamid.length > 28 ? `${wamid.slice(0, 12)}…${wamid.slice(-10)}` : wamid);
