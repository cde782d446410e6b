/**
 * The OpenAPI document at /docs/json and the UI at /docs, on the compiled binary: a
 * valid document whose every schema lists its properties, every documented admin
 * operation exists (401 without a token, not 404), every answer the daemon gives
 * parses with the schema the document shows, the UI's script comes from the binary,
 * and the UI is on by default only on a loopback listen.
 */
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv from "ajv";
import { beforeAll, expect, test } from "bun:test";
import type { z } from "zod";
import * as answers from "../../src/admin/responses";
import { ENVELOPE_EXAMPLE, OUTBOUND_EXAMPLE, STATS_DAYS_EXAMPLE } from "../../src/admin/examples";
import { OutboundItem } from "../../src/admin/outbound";
import { EventEnvelope } from "../../src/events/envelope";
import { requireBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import { ADMIN, filledDaemon, PERSON, type Page } from "../support/filled";
import { closedPort } from "../support/sink";
import { WHSEC } from "../support/pipeline";
import { signedPost, statusesPayload } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();

type Schema = { type?: string; properties?: object; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[] };
type Operation = { requestBody?: { content: Record<string, { schema: Schema }> }; responses: Record<string, { content?: Record<string, { schema: Schema }> }>; security?: unknown[] };
type Document = { paths: Record<string, Record<string, Operation>> };

/** An object schema, or a union/array of them, that names its properties. */
function listsProperties(s: Schema): boolean {
  if (s.properties && Object.keys(s.properties).length > 0) return true;
  if (s.type === "array" && s.items) return listsProperties(s.items);
  const members = s.anyOf ?? s.oneOf;
  return members !== undefined && members.length > 0 && members.every(listsProperties);
}

/**
 * Checks an answer against the schema /docs/json gives for its operation and status
 * (JSON Schema, with OpenAPI 3.0's `nullable`): the problems, none when it conforms.
 */
async function documentedAnswers(base: string) {
  const doc = (await SwaggerParser.dereference((await (await fetch(`${base}/docs/json`)).json()) as never)) as unknown as Document;
  // Formats (date-time) are zod's to check; here only the document's shapes.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false });
  const templates = Object.keys(doc.paths).map((t) => ({ t, re: new RegExp(`^${t.replace(/\{[^}]+\}/g, "[^/]+")}$`) }));
  return (method: string, path: string, status: number, body: unknown): string[] => {
    const bare = path.split("?")[0]!;
    const template = templates.find(({ re }) => re.test(bare))?.t;
    if (!template) return [`no path in the document matches ${bare}`];
    const responses = doc.paths[template]![method.toLowerCase()]?.responses;
    const schema = (responses?.[String(status)] ?? responses?.default)?.content?.["application/json"]?.schema;
    if (!schema) return [`the document gives no JSON answer for ${method} ${template} ${status}`];
    const validate = ajv.compile(schema);
    return validate(body) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  };
}

async function daemonWith(extra: Parameters<typeof writeConfig>[1] = {}) {
  const daemon = await startDaemon(writeConfig(tempDir(), extra));
  daemons.push(daemon);
  return daemon;
}

test("/docs/json is a valid OpenAPI document; every 200 answer and request body lists its properties", async () => {
  const daemon = await daemonWith();
  const doc = (await (await fetch(`${daemon.url}/docs/json`)).json()) as Document;
  await SwaggerParser.validate(structuredClone(doc) as never);

  const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
  expect(operations.length).toBeGreaterThanOrEqual(20);
  for (const { path, method, op } of operations) {
    if (path === "/webhook" && method === "get") continue; // the handshake answers text/plain
    // The live stream answers Server-Sent Events; its schema is each message's data.
    const media = path === "/v1/events/stream" ? "text/event-stream" : "application/json";
    expect(Object.keys(op.responses["200"]?.content ?? {})).toEqual([media]);
    const ok = op.responses["200"]?.content?.[media]?.schema;
    expect({ path, method, ok: ok !== undefined && listsProperties(ok) }).toEqual({ path, method, ok: true });
    for (const media of Object.values(op.requestBody?.content ?? {})) {
      expect({ path, method, body: listsProperties(media.schema) }).toEqual({ path, method, body: true });
    }
    if (path.startsWith("/v1/")) expect(op.security).toEqual([{ adminToken: [] }]);
  }
  // Every answer a route gives is in the document, besides its 200.
  const statuses = (path: string, method: string) => Object.keys((doc.paths as unknown as Record<string, Record<string, { responses: object }>>)[path]![method]!.responses);
  expect(statuses("/webhook", "post")).toEqual(["200", "400", "401", "408", "413", "503"]);
  expect(statuses("/readyz", "get")).toEqual(["200", "503"]);
  const stream = (doc.paths as unknown as Record<string, Record<string, { parameters: { name: string; in: string; required: boolean }[] }>>)["/v1/events/stream"]!.get!;
  expect(stream.parameters).toContainEqual(expect.objectContaining({ name: "Last-Event-ID", in: "header", required: false }));
  // The examples the document shows are true to the schemas.
  expect(EventEnvelope.parse(ENVELOPE_EXAMPLE)).toBeDefined();
  expect(OutboundItem.parse(OUTBOUND_EXAMPLE)).toBeDefined();
  const events = doc.paths["/v1/events"]!.get!.responses["200"]!.content!["application/json"] as unknown as { example: unknown };
  expect(answers.EventPage.parse(events.example)).toBeDefined();
  const example = (path: string, method: string) => (doc.paths[path]![method]!.responses["200"]!.content!["application/json"] as unknown as { example: unknown }).example;
  expect(answers.StatsDays.parse(example("/v1/stats/days", "get"))).toEqual(STATS_DAYS_EXAMPLE);
  expect(answers.DeadRetried.parse(example("/v1/deliveries/retry", "post"))).toBeDefined();
});

test("every documented admin operation exists: without a token or with a wrong one it answers 401, never 404", async () => {
  const daemon = await daemonWith();
  const doc = (await (await fetch(`${daemon.url}/docs/json`)).json()) as Document;
  const admin = Object.entries(doc.paths).filter(([path]) => path.startsWith("/v1/"));
  expect(admin.length).toBeGreaterThanOrEqual(18);
  for (const [path, methods] of admin) {
    for (const method of Object.keys(methods)) {
      const url = path.replace(/\{[^}]+\}/g, "x");
      for (const headers of [{}, { authorization: "Bearer e2e-admin-token-0123456788" }, { authorization: "e2e-admin-token-0123456789" }] as Record<string, string>[]) {
        const res = await fetch(`${daemon.url}${url}`, { method: method.toUpperCase(), headers });
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
      }
    }
  }
});

test("every answer parses with the schema the document shows for it", async () => {
  const hook = `[[hooks]]\nname = "app"\nurl = "http://127.0.0.1:${closedPort()}/hook"\nsecret = "${WHSEC}"\n`;
  const fallback = `[fallback]\nenabled = true\nmode = "shadow"\n[fallback.sms]\nurl = "http://127.0.0.1:${closedPort()}/sms"\nbody = { to = "+{{to}}", text = "{{text}}" }\n`;
  const { daemon, json } = await filledDaemon(daemons, hook + fallback);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${daemon.url}${path}`, { method, headers: ADMIN, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  // Also against the document itself, as a generated client would read it: zod drops a key
  // its schema does not name, and a strict schema in the document forbids it.
  const documented = await documentedAnswers(daemon.url);
  const expectShape = async (schema: z.ZodType, method: string, path: string, body?: unknown) => {
    const answer = await call(method, path, body);
    expect({ path, status: answer.status }).toEqual({ path, status: expect.any(Number) });
    const parsed = schema.safeParse(answer.body);
    expect({ path, problems: parsed.success ? [] : parsed.error.issues }).toEqual({ path, problems: [] });
    expect({ path, against_document: documented(method, path, answer.status, answer.body) }).toEqual({ path, against_document: [] });
    return answer;
  };

  const events = (await expectShape(answers.EventPage, "GET", "/v1/events?limit=100")).body as Page;
  for (const e of events.data.slice(0, 20)) await expectShape(answers.EventDetail, "GET", `/v1/events/${e.id}`);
  const status = events.data.find((e) => e.type === "message.status")!;
  // Lists with items in them, or the check would prove nothing about the items.
  for (const [schema, path] of [
    [answers.DeliveryPage, "/v1/deliveries"],
    [answers.InboxPage, "/v1/inbox?state=done"],
    [answers.TemplatePage, "/v1/templates"],
    [answers.AlertPage, "/v1/alerts"],
  ] as const) {
    expect(((await expectShape(schema, "GET", path)).body as Page).data.length).toBeGreaterThan(0);
  }
  expect(((await expectShape(answers.Contact, "GET", `/v1/contacts/${PERSON}`)).body as { recent_messages: unknown[] }).recent_messages.length).toBeGreaterThan(0);
  await expectShape(answers.Stats, "GET", "/v1/stats");
  await expectShape(answers.StatsDays, "GET", "/v1/stats/days?days=31");
  await expectShape(answers.Jobs, "GET", "/v1/jobs");
  await expectShape(answers.Message, "GET", `/v1/messages/${encodeURIComponent(status.data.wamid as string)}`);
  await expectShape(answers.ReplayResult, "POST", `/v1/events/${events.data[0]!.id}/replay`, {});
  await expectShape(answers.ReplayResult, "POST", "/v1/replay", { since: "2020-01-01T00:00:00Z" });
  await expectShape(answers.ReplayResult, "POST", "/v1/replay", { since: "2020-01-01", limit: 1 });
  await expectShape(answers.OrphansResolved, "POST", "/v1/deliveries/orphaned", { action: "cancel" });
  expect((await expectShape(answers.Registered, "POST", "/v1/outbound", OUTBOUND_EXAMPLE)).status).toBe(201);
  await expectShape(answers.Registered, "POST", "/v1/outbound", [OUTBOUND_EXAMPLE]);
  await expectShape(answers.Message, "GET", `/v1/messages/${encodeURIComponent(OUTBOUND_EXAMPLE.wamid)}`);
  // A timeline with the sweeper's details in it (the reason, the code): what a strict item schema forbade.
  await expectShape(answers.Registered, "POST", "/v1/outbound", { wamid: "wamid.TIMELINE", to: "16505551234", text: "Your code is 1", category: "authentication" });
  const failed = statusesPayload({ id: "wamid.TIMELINE", status: "failed", timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: "16505551234", errors: [{ code: 131026, title: "Message undeliverable" }] });
  expect((await signedPost(`${daemon.url}/webhook`, JSON.stringify(failed))).status).toBe(200);
  // The registration is a move of its own: wait for the failure's decision.
  await waitFor(async () => ((await call("GET", "/v1/messages/wamid.TIMELINE")).body as { fallback: { timeline: { reason?: string }[] } }).fallback.timeline.some((t) => t.reason === "failed"));
  const timeline = (await expectShape(answers.Message, "GET", "/v1/messages/wamid.TIMELINE")).body as { fallback: { timeline: Record<string, unknown>[] } };
  expect(timeline.fallback.timeline).toContainEqual(expect.objectContaining({ source: "sweeper", reason: "failed", error_code: 131026 }));
  await expectShape(answers.JobRun, "POST", "/v1/jobs/stale/run");
  await expectShape(answers.Problem, "GET", "/v1/events?limit=0");
  await expectShape(answers.Problem, "GET", "/v1/events/evt_nope");
  await expectShape(answers.ContactErased, "DELETE", `/v1/contacts/${PERSON}`);
  // A dead delivery's retry and a dead webhook's reprocess answer their own shapes.
  const dead = await json<Page>("/v1/deliveries?state=dead");
  if (dead.data.length > 0) await expectShape(answers.DeliveryRetried, "POST", `/v1/deliveries/${(dead.data[0] as unknown as { id: number }).id}/retry`);
  // After it: every dead delivery of a hook at once, and a hook that does not exist.
  expect((await expectShape(answers.DeadRetried, "POST", "/v1/deliveries/retry", { hook: "app" })).status).toBe(200);
  expect((await expectShape(answers.Problem, "POST", "/v1/deliveries/retry", { hook: "nope" })).status).toBe(404);
});

test("the UI's script is served from the binary, and the page loads nothing from elsewhere", async () => {
  const daemon = await daemonWith();
  const answer = await fetch(`${daemon.url}/docs`);
  // Never framed by another page, never sniffed; the webhook's and the API's answers are left as they are.
  expect([answer.headers.get("x-frame-options"), answer.headers.get("x-content-type-options")]).toEqual(["DENY", "nosniff"]);
  expect((await fetch(`${daemon.url}/healthz`)).headers.get("x-frame-options")).toBeNull();
  const page = await answer.text();
  const sources = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  expect(sources).toEqual(["/docs/assets/scalar.js"]);
  const script = await fetch(`${daemon.url}/docs/assets/scalar.js`);
  expect(script.status).toBe(200);
  expect(script.headers.get("x-content-type-options")).toBe("nosniff");
  expect(script.headers.get("content-type")).toStartWith("text/javascript");
  expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
  // The page's configuration turns off every call to Scalar's services.
  const config = JSON.parse(/data-configuration='([^']+)'/.exec(page)![1]!);
  expect(config).toMatchObject({ withDefaultFonts: false, proxyUrl: "", agent: { disabled: true }, mcp: { disabled: true }, showDeveloperTools: "never" });
});

test("[admin] docs: on by default on loopback, off when set false, off by default on a public listen unless set true", async () => {
  const docsStatus = async (extra: Parameters<typeof writeConfig>[1]) => {
    const daemon = await daemonWith(extra);
    const listening = daemon.lines.find((l) => l.includes('"msg":"listening"'))!;
    return { docs: (await fetch(`${daemon.url}/docs`)).status, json: (await fetch(`${daemon.url}/docs/json`)).status, logged: JSON.parse(listening).docs };
  };
  expect(await docsStatus({})).toEqual({ docs: 200, json: 200, logged: "/docs" });
  expect(await docsStatus({ admin: "docs = false" })).toEqual({ docs: 404, json: 404, logged: false });
  expect(await docsStatus({ listen: "0.0.0.0:0" })).toEqual({ docs: 404, json: 404, logged: false });
  expect(await docsStatus({ listen: "0.0.0.0:0", admin: "docs = true" })).toEqual({ docs: 200, json: 200, logged: "/docs" });
});

test("[admin] console: on by default on loopback, off when set false, off by default on a public listen unless set true; the page is served with a same-origin-only policy", async () => {
  const consoleStatus = async (extra: Parameters<typeof writeConfig>[1]) => {
    const daemon = await daemonWith(extra);
    const listening = daemon.lines.find((l) => l.includes('"msg":"listening"'))!;
    const page = await fetch(`${daemon.url}/console`);
    return { page: page.status, script: (await fetch(`${daemon.url}/console/assets/index.js`)).status, logged: JSON.parse(listening).console, csp: page.headers.get("content-security-policy") };
  };
  const on = await consoleStatus({});
  expect(on).toMatchObject({ page: 200, script: 200, logged: "/console" });
  expect(on.csp).toContain("default-src 'none'");
  expect(on.csp).toContain("connect-src 'self'");
  expect(await consoleStatus({ admin: "console = false" })).toMatchObject({ page: 404, script: 404, logged: false });
  expect(await consoleStatus({ listen: "0.0.0.0:0" })).toMatchObject({ page: 404, script: 404, logged: false });
  expect(await consoleStatus({ listen: "0.0.0.0:0", admin: "console = true" })).toMatchObject({ page: 200, script: 200, logged: "/console" });
  // Only the console's own files: any other name under its assets is a 404.
  const daemon = await daemonWith({});
  expect((await fetch(`${daemon.url}/console/assets/..%2F..%2Fconfig.toml`)).status).toBe(404);
  expect((await fetch(`${daemon.url}/console/assets/nope.js`)).status).toBe(404);
});
