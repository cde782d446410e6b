/** One event as forwarded, the webhook it came from, and its deliveries (replay to a hook). */
import { api } from "../api";
import { badge, h, link, problem, section, table, when } from "../dom";
import type { EventAnswer } from "../types";
import { eventSubject } from "../../src/events/subject";

export async function event(main: HTMLElement, id: string) {
  const { event: e, deliveries } = await api<EventAnswer>(`/events/${encodeURIComponent(id)}`);
  const { wamid, waId } = eventSubject(e.type, (e.data ?? {}) as Record<string, unknown>);
  const out = h("div", {});
  main.replaceChildren(
    h("h1", {}, e.type),
    h("p", {}, when(e.received_at), " ", h("code", {}, e.id), wamid ? h("span", {}, " · ", link("message", wamid, "message")) : "", waId ? h("span", {}, " · ", link("contact", waId, `+${waId}`)) : ""),
    section(
      "Deliveries",
      table(
        ["hook", "state", "attempts", "last answer", "updated", ""],
        deliveries.map((d) => [d.hook, badge(d.state), String(d.attempts), [d.last_status ? `HTTP ${d.last_status}` : "", d.last_error ?? ""].filter(Boolean).join(" · ") || "—", when(d.updated_at), replayButton(e.id, d.hook, out)]),
        "Sent to no hook.",
      ),
      out,
    ),
    section("Data", h("pre", {}, JSON.stringify(e.data, null, 2))),
  );
}

function replayButton(id: string, hook: string, out: HTMLElement): HTMLElement {
  return h(
    "button",
    {
      type: "button",
      onclick: async () => {
        if (!confirm(`Send this event to ${hook} again?`)) return;
        try {
          await api(`/events/${encodeURIComponent(id)}/replay`, { method: "POST", body: { hook } });
          out.replaceChildren(h("p", { class: "ok", role: "status" }, `Queued again for ${hook}.`));
        } catch (err) {
          out.replaceChildren(problem(err));
        }
      },
    },
    "Replay",
  );
}
