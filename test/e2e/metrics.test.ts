/**
 * GET /metrics on the compiled binary after real traffic: the scrape parses as
 * Prometheus' text format, and the counters kept by the request thread (webhooks,
 * latency, commits) and by the writer thread (events, statuses, deliveries, SMS,
 * jobs) have both moved; the gauges read the database. metrics_token guards it.
 */
import { beforeAll, expect, test } from "bun:test";
import { requireBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import { ADMIN } from "../support/filled";
import { fixture, WHSEC } from "../support/pipeline";
import { parseScrape } from "../support/prometheus";
import { Sink } from "../support/sink";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons, sinks } = stopAfterEach();

test("after real traffic every kind of counter has moved, from both threads, and the gauges read the database", async () => {
  const hook = new Sink().start();
  const sms = new Sink().start();
  const alerts = new Sink().start();
  sinks.push(hook, sms, alerts);
  const toml = `
[[hooks]]
name = "app"
url = "${hook.url}"
secret = "${WHSEC}"
[alerts]
url = "http://127.0.0.1:${alerts.port}/alerts"
[fallback]
enabled = true
[fallback.sms]
url = "http://127.0.0.1:${sms.port}/sms"
body = { to = "+{{to}}", text = "{{text}}" }
`;
  const daemon = await startDaemon(writeConfig(tempDir(), { toml, maxBodyBytes: 4096 }));
  daemons.push(daemon);
  const names = ["message_text", "message_image", "status_sent", "status_delivered", "template_status_paused"];
  for (const name of names) expect((await signedPost(`${daemon.url}/webhook`, JSON.stringify(fixture(name).payload))).status).toBe(200);
  expect((await signedPost(`${daemon.url}/webhook`, JSON.stringify(fixture("message_text").payload))).status).toBe(200); // Meta's retry
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.BAD"), "not-the-app-secret")).status).toBe(401);
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.BIG", "x".repeat(5000)))).status).toBe(413);
  // An outbound message registered with a deadline already past: the stale job sends its SMS.
  const outbound = { wamid: "wamid.OTP", to: "+16505551234", text: "Your code is 1234", category: "authentication", stale_after: "1s" };
  expect((await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify(outbound) })).status).toBe(201);
  await waitFor(() => hook.received.length >= 5, 10_000);
  await Bun.sleep(1100);
  expect((await fetch(`${daemon.url}/v1/jobs/stale/run`, { method: "POST", headers: ADMIN })).status).toBe(200);
  await waitFor(() => sms.received.length === 1, 10_000); // the stale job kicks the fallback job
  await waitFor(() => alerts.received.length >= 1, 10_000); // the paused template

  const res = await fetch(`${daemon.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const m = parseScrape(await res.text());
  // The request thread.
  expect(m.value("wa_webhook_requests_total", { outcome: "stored" })).toBe(6);
  expect(m.value("wa_webhook_requests_total", { outcome: "bad_signature" })).toBe(1);
  expect(m.value("wa_webhook_requests_total", { outcome: "too_large" })).toBe(1);
  expect(m.count("wa_ingest_latency_seconds")).toBe(6);
  expect(m.family("wa_inbox_commit_batch_size").type).toBe("HISTOGRAM");
  expect(m.count("wa_inbox_commit_batch_size")).toBeGreaterThanOrEqual(1);
  // The writer thread.
  expect(m.value("wa_events_total", { type: "message.received" })).toBe(2);
  expect(m.value("wa_events_total", { type: "message.status" })).toBe(2);
  expect(m.value("wa_events_total", { type: "template.status" })).toBe(1);
  expect(m.value("wa_duplicates_total")).toBe(1);
  expect(m.value("wa_status_transitions_total", { status: "delivered", to: "delivered" })).toBe(1);
  expect(m.value("wa_deliveries_total", { hook: "app", outcome: "done" })).toBeGreaterThanOrEqual(5);
  expect(m.value("wa_fallback_sms_total", { outcome: "sent" })).toBe(1);
  expect(m.value("wa_alerts_total", { outcome: "sent" })).toBeGreaterThanOrEqual(1);
  expect(m.value("wa_job_runs_total", { job: "stale", result: "ok" })).toBeGreaterThanOrEqual(1);
  expect(m.value("wa_job_runs_total", { job: "fallback", result: "ok" })).toBeGreaterThanOrEqual(1);
  expect(m.value("wa_job_seconds_total", { job: "stale" })).toBeGreaterThan(0);
  // Outcomes that never happened are series at 0, so an alert on their rate can fire at the first one.
  expect(m.series("wa_webhook_requests_total", { outcome: "unavailable" })).toBe(0);
  expect(m.series("wa_deliveries_total", { hook: "app", outcome: "dead" })).toBe(0);
  expect(m.series("wa_fallback_sms_total", { outcome: "failed" })).toBe(0);
  expect(m.series("wa_alerts_total", { outcome: "dead" })).toBe(0);
  expect(m.series("wa_job_runs_total", { job: "stale", result: "error" })).toBe(0);
  expect(m.series("wa_job_seconds_total", { job: "retention" })).toBeGreaterThanOrEqual(0);
  // Gauges read at scrape time.
  expect(m.value("wa_inbox_webhooks", { state: "dead" })).toBe(0);
  expect(m.family("wa_worker_lag_seconds").type).toBe("GAUGE");
  expect(m.value("wa_deliveries_open", { hook: "app", state: "dead" })).toBe(0);
  expect(m.value("wa_database_bytes")).toBeGreaterThan(0);
  expect(m.family("wa_wal_bytes").metrics).toHaveLength(1);
  expect(m.family("wa_build_info").metrics[0]!.labels!.version).toMatch(/^\d+\.\d+\.\d+/);
});

test("with [admin] metrics_token the scrape needs that bearer token", async () => {
  const daemon = await startDaemon(writeConfig(tempDir(), { admin: 'metrics_token = "scrape-token-0123"' }));
  daemons.push(daemon);
  expect((await fetch(`${daemon.url}/metrics`)).status).toBe(401);
  expect((await fetch(`${daemon.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
  const ok = await fetch(`${daemon.url}/metrics`, { headers: { authorization: "Bearer scrape-token-0123" } });
  expect(ok.status).toBe(200);
  expect(parseScrape(await ok.text()).value("wa_webhook_requests_total")).toBe(0);
  expect(daemon.lines.join("\n")).not.toContain("scrape-token-0123");
});
