/**
 * The admin API's inspection routes on the compiled binary, over a database filled by
 * the real pipeline (signed fixture webhooks): auth, filters, pages across inserts,
 * 400/404 answers, the raw webhook behind an event, the live stream with
 * Last-Event-ID, dead deliveries put back (one, or all of a hook's), stats per day, and
 * erasing a person without a trace.
 */
import { Database } from "bun:sqlite";
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { closedPort } from "../support/sink";
import { BINARY, requireBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import { ADMIN, filledDaemon, PERSON, TOKEN, type Page } from "../support/filled";
import { fixture, WHSEC } from "../support/pipeline";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons } = stopAfterEach();
const filled = (extraToml = "") => filledDaemon(daemons, extraToml);

test("every route refuses no token and a wrong one (401), and answers the right one", async () => {
  const { get } = await filled();
  const routes = ["/v1/events", "/v1/events/stream", "/v1/deliveries", "/v1/inbox", `/v1/contacts/${PERSON}`, "/v1/templates", "/v1/stats"];
  for (const route of routes) {
    expect((await get(route, {})).status).toBe(401);
    expect((await get(route, { authorization: "Bearer not-the-token-at-all" })).status).toBe(401);
  }
  for (const route of routes.filter((r) => !r.endsWith("stream"))) {
    const answer = await get(route);
    // Personal data: no browser or proxy keeps a copy.
    expect({ route, status: answer.status, cache: answer.headers.get("cache-control") }).toEqual({ route, status: 200, cache: "no-store" });
  }
  // The scheme is case-insensitive (RFC 9110); the token is not.
  for (const scheme of ["bearer", "BEARER", "BeArEr"]) expect((await get("/v1/stats", { authorization: `${scheme} ${TOKEN}` })).status).toBe(200);
  expect((await get("/v1/stats", { authorization: `Bearer ${TOKEN.toUpperCase()}` })).status).toBe(401);
  expect((await get("/v1/stats", { authorization: `Basic ${TOKEN}` })).status).toBe(401);
  // Which /v1 routes exist is the token holder's to learn: without it, an unknown one is a 401 too.
  expect((await get("/v1/nope", {})).status).toBe(401);
  expect((await get("/v1/nope", { authorization: "Bearer not-the-token-at-all" })).status).toBe(401);
  expect((await get("/v1/nope", { authorization: `Bearer ${TOKEN}` })).status).toBe(404);
  // Refusals and unknown routes under /v1 are not kept either: their paths may hold a number.
  for (const [route, headers, status] of [["/v1/stats", {}, 401], [`/v1/contacts/${PERSON}/x`, {}, 401], [`/v1/contacts/${PERSON}/x`, { authorization: `Bearer ${TOKEN}` }, 404]] as const) {
    const answer = await get(route, headers);
    expect({ route, status: answer.status, cache: answer.headers.get("cache-control") }).toEqual({ route, status, cache: "no-store" });
  }
});

test("a refused request's path is logged with the person's number hashed, like every other field", async () => {
  const { get, daemon } = await filled();
  expect((await get(`/v1/contacts/${PERSON}`, { authorization: "Bearer mistyped-token-0123456789" })).status).toBe(401);
  expect((await get(`/v1/contacts/%2B${PERSON}`, {})).status).toBe(401);
  // Percent-escaped as a route reads them: every digit escaped, or dashes and spaces between them.
  const escaped = [...PERSON].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("");
  const dashed = `${PERSON.slice(0, 1)}%2D${PERSON.slice(1, 4)}%2D${PERSON.slice(4, 7)}%2D${PERSON.slice(7)}`;
  for (const path of [escaped, dashed, `%2B${PERSON.slice(0, 1)}%20${PERSON.slice(1, 4)}%20${PERSON.slice(4)}`]) expect((await get(`/v1/contacts/${path}`, {})).status).toBe(401);
  // The log line may come a moment after the answer (stdout is read by another process).
  const refusedLines = () => daemon.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request refused");
  await waitFor(() => refusedLines().length >= 5, 5_000);
  const refused = refusedLines();
  expect(refused).toHaveLength(5);
  // One person, one hash, whichever way the path wrote the number.
  expect(new Set(refused.map((l) => l.path)).size).toBe(1);
  expect(refused[0].path).toMatch(/^\/v1\/contacts\/wa_[0-9a-f]{12}$/);
  const lines = daemon.lines.join("\n");
  expect(lines).not.toContain(PERSON);
  expect(lines).not.toContain(escaped);
  expect(lines).not.toContain(dashed);
});

test("events: newest first, pages that neither skip nor repeat while new events arrive, and every filter", async () => {
  const { daemon, json, all } = await filled();
  const first: Page = await json("/v1/events?limit=7");
  expect(first.data).toHaveLength(7);
  const ids = first.data.map((e) => e.id);
  expect([...ids].sort().reverse()).toEqual(ids);
  // New events between pages land before the cursor, never in the pages after it.
  for (let i = 0; i < 3; i++) await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.NEW${i}`));
  let cursor = first.next_cursor;
  const rest: string[] = [];
  while (cursor) {
    const page: Page = await json(`/v1/events?limit=7&cursor=${cursor}`);
    rest.push(...page.data.map((e) => e.id));
    cursor = page.next_cursor;
  }
  const everything = [...ids, ...rest];
  expect(new Set(everything).size).toBe(everything.length);
  expect(everything.every((id) => id <= ids[0]!)).toBe(true);
  // The filters below compare whole listings: first let the worker turn the three new webhooks into events.
  await waitFor(async () => (await Promise.all([0, 1, 2].map((i) => all(`&wamid=wamid.NEW${i}`)))).every((list) => list.length > 0));

  const messages = await all("&type=message.*");
  expect(messages.length).toBeGreaterThan(0);
  expect(messages.every((e) => e.type.startsWith("message."))).toBe(true);
  const statuses = await all("&type=message.status");
  expect(statuses.every((e) => e.type === "message.status")).toBe(true);
  const sent = statuses[0]!.data.wamid as string;
  const byWamid = await all(`&wamid=${encodeURIComponent(sent)}`);
  expect(byWamid.length).toBeGreaterThan(0);
  expect(byWamid.every((e) => e.data.wamid === sent)).toBe(true);
  const fromPerson = await all(`&from=${PERSON}`);
  expect(fromPerson.length).toBeGreaterThan(3);
  // The number as people write it finds the same events.
  const written = `+${PERSON.slice(0, 1)} (${PERSON.slice(1, 4)}) ${PERSON.slice(4, 7)}-${PERSON.slice(7)}`;
  expect((await all(`&from=${encodeURIComponent(written)}`)).map((e) => e.id)).toEqual(fromPerson.map((e) => e.id));
  // Every event of the person under any id they had (the fixtures change their number: message_system).
  const { identity } = await json<{ identity: { ids: string[] } }>(`/v1/contacts/${PERSON}`);
  expect(identity.ids).toContain("12195550000");
  // By number, or by user id (BSUID) where an event has no number: the person's user ids are among their ids.
  const personFields = (d: Record<string, unknown>) => [d.from, d.recipient_id, d.recipient_participant_id, d.wa_id, d.to, d.thread, d.phone_number, d.from_user_id, d.recipient_user_id, d.user_id, d.to_user_id];
  expect(fromPerson.filter((e) => !personFields(e.data).some((id) => identity.ids.includes(id as string)))).toEqual([]);
  const phone = await all("&phone_number_id=106540352242922&type=message.received");
  expect(phone.every((e) => e.type === "message.received")).toBe(true);
  const future = new Date(Date.now() + 60_000).toISOString();
  expect(await all(`&since=${future}`)).toEqual([]);
  expect((await all(`&until=${future}`)).length).toBe((await all()).length);
  expect(await all(`&until=2020-01-01T00:00:00Z`)).toEqual([]);
  // A date alone is midnight UTC, as the CLI reads it.
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  expect(await all(`&since=${today}`)).toEqual(await all(`&since=${today}T00:00:00Z`));
  expect(await all(`&since=${tomorrow}`)).toEqual([]);
  expect((await all(`&until=${tomorrow}`)).length).toBe((await all()).length);
});

test("bad parameters are 400s naming the parameter, each with a log line; unknown ids are 404s", async () => {
  const { get, daemon } = await filled();
  const reason = async (path: string, status = 400) => {
    const res = await get(path);
    expect(res.status).toBe(status);
    return ((await res.json()) as { reason: string }).reason;
  };
  expect(await reason("/v1/events?limit=0")).toStartWith("limit:");
  expect(await reason("/v1/events?limit=501")).toStartWith("limit:");
  expect(await reason("/v1/events?limit=ten")).toStartWith("limit:");
  for (const notDecimal of ["0x10", "1e2", "+5", "%2016", "", "16.0"]) expect(await reason(`/v1/events?limit=${notDecimal}`)).toStartWith("limit:");
  expect(await reason("/v1/events?cursor=not-ours")).toStartWith("cursor:");
  expect(await reason("/v1/events?type=mesage.*")).toStartWith("type:");
  expect(await reason("/v1/events?since=yesterday")).toStartWith("since:");
  expect(await reason("/v1/events?until=2026-13-01")).toStartWith("until:");
  expect(await reason("/v1/events?since=2026-12-06T00:00:00Z&until=2026-12-01T00:00:00Z")).toBe("until: must be after since");
  expect(await reason("/v1/deliveries?state=lost")).toStartWith("state:");
  expect(await reason("/v1/deliveries?hook=nope")).toStartWith("hook:");
  expect(await reason("/v1/inbox?state=gone")).toStartWith("state:");
  // What was sent is quoted at most 300 characters long.
  const long = await reason(`/v1/events?type=${"m".repeat(5_000)}`);
  expect(long).toStartWith("type:");
  expect(long.length).toBeLessThanOrEqual(301);
  expect(await reason("/v1/events/evt_01M85FEQF26QZPSSFXV61RRAKX", 404)).toContain("no event");
  expect(await reason("/v1/events/nonsense", 404)).toContain("no event");
  expect(await reason("/v1/contacts/19998887777", 404)).toContain("no contact");
  // Found in the query string and found on the writer thread alike: one warning each, naming why.
  const rejected = daemon.lines.filter((l) => l.includes('"request rejected"')).map((l) => JSON.parse(l) as { status: number; reason: string; path?: string; op?: string });
  expect(rejected.length).toBe(18); // every 400 above
  expect(rejected.every((r) => r.status === 400)).toBe(true);
  expect(rejected.find((r) => r.reason.startsWith("cursor:"))).toMatchObject({ op: "events" });
  expect(rejected.find((r) => r.reason.startsWith("state:"))).toMatchObject({ path: "/v1/deliveries" });
});

test("an event shows its webhook byte for byte, with signature, and its deliveries", async () => {
  const { json, bodies } = await filled(`[[hooks]]\nname = "app"\nurl = "http://127.0.0.1:${closedPort()}/hook"\nsecret = "${WHSEC}"\n`);
  const [received] = (await json<Page>("/v1/events?type=message.received&wamid=wamid.HBgLMTY1MDUyNTIyMzQVAgASGBQzQTdFNDI2QzE0MTBFOUM5QzA5QQA=")).data;
  const id = received?.id ?? (await json<Page>("/v1/events?type=message.received&limit=500")).data.at(-1)!.id;
  const detail = await json<{ event: { id: string }; webhook: { body: string; signature: string; body_encoding: string }; deliveries: { hook: string; attempts: number }[] }>(`/v1/events/${id}`);
  expect(detail.event.id).toBe(id);
  expect([...bodies.values()]).toContain(detail.webhook.body);
  expect(detail.webhook.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
  expect(detail.webhook.body_encoding).toBe("utf-8");
  expect(detail.deliveries.map((d) => d.hook)).toEqual(["app"]);
});

test("the stream sends new events as they are stored, and Last-Event-ID resumes with no gap and no duplicate", async () => {
  const { daemon } = await filled();
  const read = async (headers: Record<string, string>, want: number) => {
    const controller = new AbortController();
    const res = await fetch(`${daemon.url}/v1/events/stream?type=message.received`, { headers: { ...ADMIN, ...headers }, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const ids: string[] = [];
    let text = "";
    const deadline = Date.now() + 15_000;
    while (ids.length < want && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      ids.splice(0, ids.length, ...[...text.matchAll(/^id: (evt_\w+)$/gm)].map((m) => m[1]!));
    }
    controller.abort();
    return ids;
  };
  const live = read({}, 2);
  await Bun.sleep(500);
  await signedPost(`${daemon.url}/webhook`, textMessage("wamid.LIVE1"));
  await signedPost(`${daemon.url}/webhook`, textMessage("wamid.LIVE2"));
  const [first, second] = await live;
  expect(first! < second!).toBe(true);
  for (let i = 3; i <= 5; i++) await signedPost(`${daemon.url}/webhook`, textMessage(`wamid.LIVE${i}`));
  const resumed = await read({ "last-event-id": first! }, 4);
  expect(resumed).toHaveLength(4);
  expect(resumed[0]).toBe(second!);
  expect(new Set(resumed).size).toBe(4);
});

test("dead deliveries are listed by hook and put back one at a time; replay queues by event and by range", async () => {
  const { json, daemon } = await filled(
    `[[hooks]]\nname = "app"\nurl = "http://127.0.0.1:${closedPort()}/hook"\nsecret = "${WHSEC}"\nevents = ["template.*"]\nretry_schedule = ["1s"]\n`,
  );
  let dead: { data: { id: number; hook: string; state: string; event_type: string }[] } = { data: [] };
  for (let i = 0; i < 150 && dead.data.length === 0; i++) {
    dead = await json(`/v1/deliveries?state=dead&hook=app`);
    if (dead.data.length === 0) await Bun.sleep(100);
  }
  expect(dead.data.length).toBeGreaterThan(0);
  expect(dead.data.every((d) => d.hook === "app" && d.state === "dead" && d.event_type.startsWith("template."))).toBe(true);
  const post = (path: string, body?: unknown) => fetch(`${daemon.url}${path}`, { method: "POST", headers: ADMIN, body: body === undefined ? undefined : JSON.stringify(body) });
  const one = dead.data[0]!;
  expect((await post(`/v1/deliveries/${one.id}/retry`)).status).toBe(200);
  expect((await post(`/v1/deliveries/${one.id}/retry`)).status).toBe(409);
  expect((await post(`/v1/deliveries/999999/retry`)).status).toBe(404);

  const [event] = (await json<Page>("/v1/events?type=message.received&limit=1")).data;
  const replayed = (await (await post(`/v1/events/${event!.id}/replay`, { hook: "app" })).json()) as { queued: Record<string, number> };
  expect(replayed.queued).toEqual({ app: 1 }); // named hook: even an event its filter excludes
  expect((await post(`/v1/events/evt_01M85FEQF26QZPSSFXV61RRAKX/replay`)).status).toBe(404);
  const range = (await (await post("/v1/replay", { type: "template.*", since: "2020-01-01T00:00:00Z" })).json()) as { events: number; deliveries: number };
  expect(range.events).toBeGreaterThan(0);
  expect(range.deliveries).toBe(range.events);
  expect((await post("/v1/replay", { since: "last week" })).status).toBe(400);
  expect((await post("/v1/replay", { since: "2020-01-01T00:00:00Z", hook: "nope" })).status).toBe(400);
});

test("stats per UTC day: every day present, oldest first, ending today; a hook's dead deliveries counted, then all retried at once", async () => {
  const { json, daemon } = await filled(`[[hooks]]\nname = "app"\nurl = "http://127.0.0.1:${closedPort()}/hook"\nsecret = "${WHSEC}"\nretry_schedule = ["1s"]\n`);
  type Days = { days: { day: string; events: Record<string, number>; statuses: Record<string, number>; deliveries: Record<string, { delivered: number; dead: number }>; sms: Record<string, number> }[] };
  const isoDay = (ago: number) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);
  // Every delivery of the fixtures dies at the closed port a second after its first attempt.
  const events = (await json<Page>("/v1/events?limit=500")).data.length;
  let dead = 0;
  for (let i = 0; i < 150 && dead < events; i++) {
    dead = (await json<Days>("/v1/stats/days")).days.at(-1)!.deliveries.app!.dead;
    if (dead < events) await Bun.sleep(100);
  }
  expect(dead).toBe(events);

  const week = await json<Days>("/v1/stats/days");
  expect(week.days.map((d) => d.day)).toEqual([6, 5, 4, 3, 2, 1, 0].map(isoDay));
  const today = week.days.at(-1)!;
  expect(Object.values(today.events).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  expect(today.statuses.failed).toBeGreaterThan(0);
  expect(today.sms).toEqual({ sent: 0, failed: 0, unknown: 0, cancelled: 0 });
  expect(week.days[0]).toMatchObject({ events: {}, statuses: { sent: 0, delivered: 0, read: 0, failed: 0 }, deliveries: { app: { delivered: 0, dead: 0 } } });
  expect((await json<Days>("/v1/stats/days?days=31")).days).toHaveLength(31);
  expect((await json<Days>("/v1/stats/days?days=1")).days.map((d) => d.day)).toEqual([isoDay(0)]);
  for (const days of ["0", "32", "x", "1e1", "0x1f", ""]) {
    const res = await fetch(`${daemon.url}/v1/stats/days?days=${days}`, { headers: ADMIN });
    expect({ days, status: res.status, body: await res.json() }).toEqual({ days, status: 400, body: { error: "bad_request", reason: "days: expected a whole number from 1 to 31" } });
  }

  const post = (body: unknown, headers: Record<string, string> = ADMIN) => fetch(`${daemon.url}/v1/deliveries/retry`, { method: "POST", headers, body: JSON.stringify(body) });
  const retried = await post({ hook: "app" });
  expect({ status: retried.status, body: await retried.json() }).toEqual({ status: 200, body: { hook: "app", retried: events } });
  // Due again now: none dead until their next failure a second later is given up.
  expect((await json<Page>("/v1/deliveries?state=dead&hook=app")).data).toEqual([]);
  expect((await post({ hook: "nope" })).status).toBe(404);
  const refused = await post({});
  expect({ status: refused.status, body: await refused.json() }).toEqual({ status: 400, body: { error: "bad_request", reason: "hook: required" } });
  expect((await post({ hook: "app", state: "dead" })).status).toBe(400);
  expect((await post({ hook: "app" }, { "content-type": "application/json" })).status).toBe(401);
});

test("a contact, then its erasure: counts, and no trace of the number left in any table", async () => {
  const { daemon, json, dbPath } = await filled();
  const contact = await json<{ wa_id: string; profile_name: string; recent_messages: unknown[] }>(`/v1/contacts/+${PERSON}`);
  expect(contact.wa_id).toBe(PERSON);
  expect(contact.profile_name).toBeString();
  expect(contact.recent_messages.length).toBeGreaterThan(0);
  const res = await fetch(`${daemon.url}/v1/contacts/${PERSON}`, { method: "DELETE", headers: ADMIN });
  expect(res.status).toBe(200);
  const { erased } = (await res.json()) as { erased: { events: number; contact: number; webhooks_deleted: number; webhooks_rewritten: number } };
  expect(erased.events).toBeGreaterThan(0);
  expect(erased.contact).toBe(2); // their number's and the one it changed to (message_system): one person
  expect(erased.webhooks_deleted + erased.webhooks_rewritten).toBeGreaterThan(0);
  expect((await fetch(`${daemon.url}/v1/contacts/${PERSON}`, { headers: ADMIN })).status).toBe(404);

  const db = new Database(dbPath, { readonly: true });
  const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all();
  const traces: string[] = [];
  for (const { name } of tables) {
    const columns = db.query<{ name: string }, []>(`PRAGMA table_info(${name})`).all();
    for (const c of columns) {
      const n = db.query<{ n: number }, [string]>(`SELECT count(*) n FROM ${name} WHERE instr(CAST(${c.name} AS BLOB), CAST(? AS BLOB)) > 0`).get(PERSON)!.n;
      if (n > 0) traces.push(`${name}.${c.name}: ${n}`);
    }
  }
  db.close();
  expect(traces).toEqual([]);
  // Other people's events are still there.
  expect((await json<Page>("/v1/events?limit=500")).data.length).toBeGreaterThan(0);
});

test("templates with their history, and stats with queues, funnel and billable messages", async () => {
  const { json } = await filled();
  const templates = await json<{ data: { template_id: string; status: string | null; history: { attribute: string }[] }[] }>("/v1/templates");
  expect(templates.data.length).toBeGreaterThan(0);
  expect(templates.data.some((t) => t.history.length > 0)).toBe(true);
  const stats = await json<Record<string, any>>("/v1/stats");
  expect(stats.inbox).toMatchObject({ pending: 0, processing: 0 });
  expect(Object.values(stats.events.last_day as Record<string, number>).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  expect(stats.funnel_last_day.sent).toBeGreaterThan(0);
  expect(stats.funnel_last_day.failed_by_code.length).toBeGreaterThan(0);
  expect(stats.billable_by_day.length).toBeGreaterThan(0);
});

test("wa-webhookd tail prints new events one line each, filtered by type, with no phone number or text", async () => {
  const dir = tempDir();
  const config = writeConfig(dir);
  const daemon = await startDaemon(config);
  daemons.push(daemon);
  const tail = Bun.spawn([BINARY, "tail", "--config", config, "--type", "message.*"], { stdout: "pipe", stderr: "pipe" });
  try {
    await Bun.sleep(700);
    await signedPost(`${daemon.url}/webhook`, textMessage("wamid.TAIL1", "my secret text"));
    await signedPost(`${daemon.url}/webhook`, JSON.stringify(fixture("template_status_paused").payload));
    const reader = tail.stdout.getReader();
    let out = "";
    const deadline = Date.now() + 10_000;
    while (!out.includes("wamid.TAIL1") && Date.now() < deadline) out += new TextDecoder().decode((await reader.read()).value);
    const line = out.split("\n").find((l) => l.includes("wamid.TAIL1"))!;
    expect(line).toMatch(/^\S+Z  message\.received\s+wamid\.TAIL1  text \(14 chars\)$/);
    expect(out).not.toContain("template.status");
    expect(out).not.toContain(PERSON);
    expect(out).not.toContain("my secret text");
  } finally {
    tail.kill("SIGINT");
    expect(await tail.exited).toBe(0);
  }
});

test("alerts, sent or only recorded, are listed newest first, filtered by kind, state and time, in pages", async () => {
  const { json, get, daemon } = await filled();
  type Alerts = { data: { id: number; kind: string; state: string; title: string; data: Record<string, unknown> }[]; next_cursor: string | null };
  const list = await json<Alerts>("/v1/alerts?limit=500");
  expect(list.data.length).toBeGreaterThanOrEqual(3);
  expect(list.next_cursor).toBeNull();
  const ids = list.data.map((a) => a.id);
  expect([...ids].sort((a, b) => b - a)).toEqual(ids);
  expect(list.data.every((a) => a.state === "recorded")).toBe(true); // no [alerts] url: only here and in the log

  const paged: number[] = [];
  let cursor: string | null = null;
  do {
    const page: Alerts = await json(`/v1/alerts?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
    expect(page.data.length).toBeLessThanOrEqual(2);
    paged.push(...page.data.map((a) => a.id));
    cursor = page.next_cursor;
  } while (cursor);
  expect(paged).toEqual(ids);

  const templates = await json<Alerts>("/v1/alerts?kind=template.*");
  expect(templates.data.length).toBeGreaterThan(0);
  expect(templates.data.every((a) => a.kind.startsWith("template."))).toBe(true);
  // The business's own display number, in the alert and in its log line alike: it is nobody's personal data.
  const [limit] = (await json<Alerts>("/v1/alerts?kind=phone_number.limit&state=recorded")).data;
  expect(limit!.title).toBe("WhatsApp messaging limit lowered for 15550783881");
  const logged = daemon.lines.map((l) => JSON.parse(l)).find((l) => l.msg === "alert" && l.kind === "phone_number.limit");
  expect(logged).toMatchObject({ title: limit!.title, display_phone_number: "15550783881" });
  expect((await json<Alerts>("/v1/alerts?state=sent")).data).toEqual([]);
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  expect((await json<Alerts>(`/v1/alerts?since=${today}&limit=500`)).data.map((a) => a.id)).toEqual(ids);
  expect((await json<Alerts>(`/v1/alerts?since=${tomorrow}`)).data).toEqual([]);
  expect((await json<Alerts>(`/v1/alerts?until=${today}`)).data).toEqual([]);

  const reason = async (path: string) => {
    const res = await get(path);
    expect(res.status).toBe(400);
    return ((await res.json()) as { reason: string }).reason;
  };
  expect(await reason("/v1/alerts?kind=template.pause")).toStartWith('kind: "template.pause" matches no alert kind');
  expect(await reason("/v1/alerts?state=lost")).toStartWith("state:");
  expect(await reason("/v1/alerts?since=yesterday")).toStartWith("since:");
  expect(await reason(`/v1/alerts?since=${tomorrow}&until=${today}`)).toStartWith("until:");
  expect(await reason("/v1/alerts?cursor=not-ours")).toStartWith("cursor:");
  expect(await reason("/v1/alerts?limit=0x10")).toStartWith("limit:");
});

test("POST /v1/replay queues at most `limit` events per call, oldest first; next_cursor continues until all are queued once", async () => {
  const { daemon, all } = await filled(`[[hooks]]\nname = "app"\nurl = "http://127.0.0.1:${closedPort()}/hook"\nsecret = "${WHSEC}"\nretry_schedule = ["1h"]\n`);
  const post = async (body: unknown) => {
    const res = await fetch(`${daemon.url}/v1/replay`, { method: "POST", headers: ADMIN, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { events: number; deliveries: number; next_cursor: string | null; reason?: string } };
  };
  const total = (await all()).length;
  expect(total).toBeGreaterThan(10);
  const first = await post({ since: "2020-01-01" });
  expect(first.body).toMatchObject({ events: total, deliveries: total, next_cursor: null }); // under the default 1,000
  const counts: number[] = [];
  let cursor: string | null = null;
  do {
    const page = await post({ since: "2020-01-01", hook: "app", limit: 4, ...(cursor ? { cursor } : {}) });
    expect(page.status).toBe(200);
    expect(page.body.deliveries).toBe(page.body.events);
    counts.push(page.body.events);
    cursor = page.body.next_cursor;
  } while (cursor);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
  expect(counts.slice(0, -1).every((n) => n === 4)).toBe(true);
  for (const [body, field] of [
    [{ since: "2020-01-01", limit: 10_001 }, "limit:"],
    [{ since: "2020-01-01", limit: 0 }, "limit:"],
    [{ since: "2020-01-01", limit: "5" }, "limit:"],
    [{ since: "2020-01-01", cursor: "not-ours" }, "cursor:"],
  ] as const) {
    const bad = await post(body);
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toStartWith(field);
  }
});
