/**
 * Deliveries per hook: counts by state, the failing and dead ones with the hook's last
 * answer; retry one, retry every dead one of a hook, replay an event. Hooks the daemon no
 * longer runs are listed too (their deliveries are orphaned).
 */
import { api, query } from "../api";
import { badge, h, problem, section, table, when } from "../dom";
import type { DeliveryList, StatsAnswer } from "../types";

const STATES = ["dead", "pending", "delivering", "disabled", "done", "cancelled"];

export async function deliveries(main: HTMLElement, params: URLSearchParams) {
  const hook = params.get("hook");
  const state = params.get("state") ?? "dead";
  const [stats, list] = await Promise.all([api<StatsAnswer>("/stats"), api<DeliveryList>(`/deliveries${query({ hook, state, limit: 100, cursor: params.get("cursor") })}`)]);
  const out = h("div", {});
  const hooks = [
    ...Object.entries(stats.deliveries.hooks).map(([name, q]) => [hookLink(name, state), badge("running", "done"), q.pending, q.delivering, q.dead, q.disabled, retryAll(name, q.dead, out)]),
    // Nothing sends an orphaned hook's deliveries, so a retry would be refused: cancel or move them.
    ...Object.entries(stats.deliveries.orphaned).map(([name, q]) => [hookLink(name, state), badge("not configured", "dead"), q.pending, q.delivering, q.dead, q.disabled, orphanActions(name, Object.keys(stats.deliveries.hooks), out)]),
  ];
  main.replaceChildren(
    h("h1", {}, "Deliveries"),
    section("Hooks", table(["hook", "", "pending", "delivering", "dead", "disabled", ""], hooks, "No hooks and no deliveries.")),
    out,
    section(
      `${state} deliveries${hook ? ` of ${hook}` : ""}`,
      h("nav", { class: "tabs" }, ...STATES.map((s) => h("a", { href: `#/deliveries?${new URLSearchParams({ ...(hook ? { hook } : {}), state: s }).toString()}`, class: s === state ? "active" : "" }, s))),
      table(
        ["id", "hook", "event", "state", "attempts", "last answer", "updated", ""],
        list.data.map((d) => [
          String(d.id),
          d.hook,
          h("a", { href: `#/event/${encodeURIComponent(d.event_id)}` }, d.event_type),
          d.orphaned ? badge("orphaned", "dead") : badge(d.state),
          String(d.attempts),
          answer(d),
          when(d.updated_at),
          d.orphaned ? "" : d.state === "dead" || d.state === "disabled" ? retryOne(d.id, out) : replay(d.event_id, d.hook, out),
        ]),
        `No ${state} deliveries.`,
      ),
      list.next_cursor ? h("a", { class: "more", href: `#/deliveries?${new URLSearchParams({ ...(hook ? { hook } : {}), state, cursor: list.next_cursor }).toString()}` }, "Older →") : "",
    ),
  );
}

const hookLink = (name: string, state: string) => h("a", { href: `#/deliveries?${new URLSearchParams({ hook: name, state }).toString()}` }, name);

/** The hook's last answer: its status, the error (unless it only repeats the status) and the body it sent. */
const answer = (d: DeliveryList["data"][number]) => {
  const status = d.last_status ? `HTTP ${d.last_status}` : "";
  return h("span", { class: "answer" }, [status, d.last_error === status ? "" : (d.last_error ?? ""), d.last_response ?? ""].filter(Boolean).join(" · ") || "—");
};

/** A button that asks first, then calls the API and shows what it said. */
function action(label: string, question: string, run: () => Promise<string>, out: HTMLElement): HTMLElement {
  return h(
    "button",
    {
      type: "button",
      onclick: async (e: Event) => {
        if (!confirm(question)) return;
        const button = e.target as HTMLButtonElement;
        button.disabled = true;
        try {
          out.replaceChildren(h("p", { class: "ok", role: "status" }, await run()));
        } catch (err) {
          out.replaceChildren(problem(err));
          button.disabled = false;
        }
      },
    },
    label,
  );
}

const retryOne = (id: number, out: HTMLElement) => action("Retry", `Queue delivery ${id} again?`, async () => (await api(`/deliveries/${id}/retry`, { method: "POST" }), `Delivery ${id} queued again.`), out);

const retryAll = (hook: string, dead: number, out: HTMLElement) =>
  dead === 0 ? "" : action(`Retry ${dead} dead`, `Queue every dead delivery of ${hook} again?`, async () => `${(await api<{ retried: number }>("/deliveries/retry", { method: "POST", body: { hook } })).retried} queued again for ${hook}.`, out);

/** An orphaned hook's open deliveries: cancelled, or moved to a hook the daemon runs (asked by name). */
function orphanActions(hook: string, running: string[], out: HTMLElement): HTMLElement {
  const cancel = action("Cancel", `Cancel every open delivery of ${hook}? They are finished unsent.`, async () => {
    const r = await api<{ cancelled: Record<string, number> }>("/deliveries/orphaned", { method: "POST", body: { action: "cancel", hook } });
    return `${r.cancelled[hook] ?? 0} cancelled for ${hook}.`;
  }, out);
  const move = h(
    "button",
    {
      type: "button",
      onclick: async () => {
        const to = prompt(`Move the open deliveries of ${hook} to which hook? (running: ${running.join(", ") || "none"})`, running[0] ?? "");
        if (!to) return;
        try {
          const r = await api<{ queued: number }>("/deliveries/orphaned", { method: "POST", body: { action: "move", hook, to } });
          out.replaceChildren(h("p", { class: "ok", role: "status" }, `${r.queued} queued to ${to}; ${hook}'s cancelled.`));
        } catch (err) {
          out.replaceChildren(problem(err));
        }
      },
    },
    "Move…",
  );
  return h("span", {}, cancel, " ", move);
}

const replay = (eventId: string, hook: string, out: HTMLElement) =>
  action("Replay", `Send event ${eventId} to ${hook} again?`, async () => (await api(`/events/${encodeURIComponent(eventId)}/replay`, { method: "POST", body: { hook } }), `Event queued again for ${hook}.`), out);
