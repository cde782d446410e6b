/** What was raised, when, and whether it was sent. */
import { api, query } from "../api";
import { badge, h, table, when } from "../dom";
import type { AlertList } from "../types";

export async function alerts(main: HTMLElement, params: URLSearchParams) {
  const page = await api<AlertList>(`/alerts${query({ limit: 100, cursor: params.get("cursor") })}`);
  main.replaceChildren(
    h("h1", {}, "Alerts"),
    table(
      ["raised", "severity", "kind", "what happened", "sent"],
      page.data.map((a) => [when(a.created_at), badge(a.severity, a.severity === "critical" ? "dead" : "pending"), a.kind, h("details", {}, h("summary", {}, a.title), h("p", {}, a.text)), sent(a)]),
      "No alerts.",
    ),
    page.next_cursor ? h("a", { class: "more", href: `#/alerts?cursor=${encodeURIComponent(page.next_cursor)}` }, "Older →") : "",
  );
}

function sent(a: AlertList["data"][number]): Node | string {
  if (a.state === "sent") return h("span", {}, badge("sent", "done"), " ", when(a.sent_at));
  if (a.state === "recorded") return badge("recorded (no [alerts] url)", "muted");
  return h("span", { title: a.last_error ?? "" }, badge(a.state, a.state === "dead" ? "dead" : "pending"), a.last_error ? ` ${a.last_error}` : "");
}
