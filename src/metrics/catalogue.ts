/**
 * Every counter and histogram the daemon keeps, and this thread's registry of them.
 * The request thread counts webhooks; the writer thread counts what the worker, the
 * dispatcher and the sweeper do. GET /metrics adds the two (http/metrics.ts).
 */
import { Registry, type MetricDef } from "./registry";

const outcomes = (...names: string[]) => names.map((outcome) => ({ outcome }));

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const METRICS = {
  wa_webhook_requests_total: {
    kind: "counter",
    labelled: true,
    help: "Webhook POSTs by outcome: stored, bad_signature, too_large, bad_request, timeout, unavailable",
    series: outcomes("stored", "bad_signature", "too_large", "bad_request", "timeout", "unavailable"),
  },
  wa_ingest_latency_seconds: { kind: "histogram", help: "From a stored POST's arrival to its 200 (body read, signature checked, committed)", buckets: SECONDS },
  wa_inbox_commit_batch_size: { kind: "histogram", help: "Webhooks committed together by one inbox commit (group commit)", buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] },
  wa_events_total: { kind: "counter", labelled: true, help: "Events stored, by type" },
  wa_duplicates_total: { kind: "counter", help: "Items Meta sent again, recognised and not processed twice" },
  wa_inbox_dead_total: { kind: "counter", help: "Webhooks the worker gave up on (GET /v1/inbox?state=dead)" },
  wa_status_transitions_total: {
    kind: "counter",
    labelled: true,
    help: "Message statuses applied: the status that arrived and the message's state after it (an older status keeps the newer state)",
  },
  wa_deliveries_total: { kind: "counter", labelled: true, help: "Delivery attempts to hooks, by hook and outcome: done, pending (will retry), dead, disabled" },
  wa_fallback_sms_total: {
    kind: "counter",
    labelled: true,
    help: "SMS fallback attempts by outcome: sent, failed, unknown, retrying",
    series: outcomes("sent", "failed", "unknown", "retrying"),
  },
  wa_alerts_total: { kind: "counter", labelled: true, help: "Operator alert attempts by outcome: sent, retrying, dead", series: outcomes("sent", "retrying", "dead") },
  wa_job_runs_total: { kind: "counter", labelled: true, help: "Sweeper job runs by job and result: ok, error" },
  // Seconds spent, as a counter: rate(seconds) / rate(runs) is the mean run time per job.
  wa_job_seconds_total: { kind: "counter", labelled: true, help: "Time sweeper jobs have spent running, by job" },
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof METRICS;

/** This thread's counts (each Bun worker has its own). */
export const metrics = new Registry<MetricName>(METRICS);
