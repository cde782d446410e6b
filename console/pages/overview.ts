/** Today and the last 7 days, as charts; the queues and the jobs now. */
import { api } from "../api";
import { hbars, stackedBars } from "../chart";
import { ago, badge, h, section, table, when } from "../dom";
import type { DayCounts, JobsAnswer, StatsAnswer } from "../types";

export async function overview(main: HTMLElement) {
  const [stats, { days }, { jobs }] = await Promise.all([api<StatsAnswer>("/stats"), api<{ days: DayCounts[] }>("/stats/days?days=7"), api<JobsAnswer>("/jobs")]);
  const today = days.at(-1);
  const label = (d: DayCounts) => d.day.slice(5);
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const perHook = (pick: "delivered" | "dead") => days.map((d) => ({ label: label(d), values: Object.fromEntries(Object.entries(d.deliveries).map(([hook, c]) => [hook, c[pick]])) }));
  const codes = new Map<string, number>();
  for (const d of days) for (const f of d.failed_by_code) codes.set(String(f.code ?? "none"), (codes.get(String(f.code ?? "none")) ?? 0) + f.messages);
  main.replaceChildren(
    h("h1", {}, "Overview"),
    h(
      "div",
      { class: "cards" },
      card("Events today", today ? sum(today.events) : 0),
      card("Failed today", today ? sum(Object.fromEntries(today.failed_by_code.map((f) => [String(f.code), f.messages]))) : 0),
      card("Inbox waiting", (stats.inbox.pending ?? 0) + (stats.inbox.processing ?? 0)),
      card("Oldest waiting", ago(stats.worker_lag_ms)),
      card("Dead webhooks", stats.inbox.dead ?? 0),
    ),
    section(
      "Last 7 days",
      h(
        "div",
        { class: "charts" },
        stackedBars("Events by type", days.map((d) => ({ label: label(d), values: d.events }))),
        hbars("Failures by error code", [...codes].map(([label, value]) => ({ label, value }))),
        stackedBars("Delivered, per hook", perHook("delivered")),
        stackedBars("Dead deliveries, per hook", perHook("dead")),
        stackedBars("SMS fallback", days.map((d) => ({ label: label(d), values: d.sms }))),
        stackedBars("Billable messages by pricing category", days.map((d) => ({ label: label(d), values: d.billable }))),
      ),
    ),
    section(
      "Queues now",
      table(
        ["hook", "pending", "delivering", "dead", "disabled", "oldest open", "delivered (24 h)"],
        Object.entries(stats.deliveries.hooks).map(([name, q]) => [h("a", { href: `#/deliveries?hook=${encodeURIComponent(name)}` }, name), q.pending, q.delivering, q.dead, q.disabled, ago(q.oldest_open_age_ms), q.delivered_last_day]),
        "No hooks configured.",
      ),
    ),
    section(
      "Jobs",
      table(
        ["job", "schedule", "last run", "result", "next run"],
        jobs.map((j) => [j.name, h("code", {}, j.schedule), when(j.last_finished_at ?? j.last_started_at), j.last_error ? badge("failed", "dead") : j.running ? badge("running", "pending") : j.runs > 0 ? badge("ok", "done") : badge("not yet", "muted"), when(j.next_run)]),
        "No scheduled jobs (worker off).",
      ),
    ),
  );
}

const card = (title: string, value: string | number) => h("div", { class: "card" }, h("div", { class: "card-title" }, title), h("div", { class: "card-value" }, String(value)));
