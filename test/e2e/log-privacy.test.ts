/**
 * Logs carry no personal data. The whole fixture corpus goes through the compiled binary
 * at debug, with a hook and an SMS provider that fail and echo what they were sent, an
 * alert sink, a malformed body and an SMS fallback; then every phone number, profile
 * name and text in the corpus is searched for in the output: none may appear (the
 * business's own numbers are not a person's: its alerts name them). A person shows as a
 * keyed hash that is the same on every line, and `log.redact = false` shows numbers,
 * with a warning at start.
 */
import { beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { requireBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import { ADMIN, PERSON, TOKEN } from "../support/filled";
import { keyedRedactor, redactionKey } from "../../src/util/redact";
import { fixture, hookToml } from "../support/pipeline";
import { Sink } from "../support/sink";
import { signedPost } from "../support/webhooks";

beforeAll(requireBinary);
const { daemons, sinks } = stopAfterEach();

const FIXTURES = readdirSync(join(import.meta.dir, "../fixtures/payloads")).map((f) => f.replace(/\.json$/, ""));
/** Keys whose string values are about a person: numbers, names, what they wrote. */
const PERSONAL_KEYS = new Set(["wa_id", "from", "recipient_id", "recipient_participant_id", "to", "phone", "user_id", "input", "name", "formatted_name", "first_name", "last_name", "body", "caption", "text", "title", "description", "emoji", "address", "email", "username", "parent_user_id"]);

/**
 * The business's own numbers (each payload's metadata): not personal, and named in clear
 * by its alerts' log lines. They also stand in personal keys at times (`to` of a call to
 * the business, `context.from` of a reply to its message), where they are not a person.
 */
function business(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => business(v, out));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "metadata" && v && typeof v === "object") for (const id of [(v as Record<string, unknown>).display_phone_number, (v as Record<string, unknown>).phone_number_id]) if (typeof id === "string") out.add(id);
      business(v, out);
    }
  }
  return out;
}

/** Every personal string in a payload (long enough that a match is not a coincidence). */
function personal(value: unknown, key = "", out = new Set<string>()): Set<string> {
  // Meta's wamids are base64 of a record that holds the person's number: personal wherever they stand.
  if (typeof value === "string" && /^wamid\.[A-Za-z0-9+/=_-]{8,}$/.test(value)) out.add(value);
  if (typeof value === "string" && PERSONAL_KEYS.has(key) && value.length >= 5 && !/^(text|image|video|audio|document|sticker|button|interactive|reaction|location|contacts|order|system|unknown|unsupported)$/.test(value)) out.add(value);
  if (Array.isArray(value)) value.forEach((v) => personal(v, key, out));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) personal(v, k, out);
  return out;
}

async function runCorpus(log: string) {
  const echo = (status: number) => (r: { body: string }) => new Response(`rejected: ${r.body}`, { status });
  const hook = new Sink().start();
  const sms = new Sink().start();
  const alerts = new Sink().start();
  sinks.push(hook, sms, alerts);
  hook.respond = echo(500);
  sms.respond = echo(400);
  alerts.respond = echo(500);
  const toml = `${hookToml(hook.url, "app", 'retry_schedule = ["1s"]')}
[fallback]
enabled = true
[fallback.sms]
url = "http://127.0.0.1:${sms.port}/sms"
body = { to = "+{{to}}", text = "{{text}}" }
retry_schedule = ["1s"]
[alerts]
url = "http://127.0.0.1:${alerts.port}/alerts"
`;
  const daemon = await startDaemon(writeConfig(tempDir(), { logLevel: "debug", log, toml }));
  daemons.push(daemon);
  const secrets = new Set<string>();
  const own = new Set<string>();
  for (const name of FIXTURES) {
    const payload = fixture(name).payload;
    personal(payload).forEach((s) => secrets.add(s));
    business(payload, own);
    expect((await signedPost(`${daemon.url}/webhook`, JSON.stringify(payload))).status).toBe(200);
  }
  // A body that is not JSON, holding a number and words.
  expect((await signedPost(`${daemon.url}/webhook`, `{"from": "${PERSON}", "text": "call me back at ${PERSON} please`)).status).toBe(200);
  const otp = { wamid: "wamid.PRIVACY", to: `+${PERSON}`, text: "Your secret code is 482913", stale_after: "1s" };
  secrets.add(otp.text);
  expect((await fetch(`${daemon.url}/v1/outbound`, { method: "POST", headers: ADMIN, body: JSON.stringify(otp) })).status).toBe(201);
  await Bun.sleep(1100);
  await fetch(`${daemon.url}/v1/jobs/stale/run`, { method: "POST", headers: ADMIN });
  await waitFor(() => sms.received.length >= 1 && hook.received.length >= 10 && alerts.received.length >= 1, 15_000);
  await Bun.sleep(300);
  // A mistyped token while looking a person up: the refused request's path names them.
  expect((await fetch(`${daemon.url}/v1/contacts/${PERSON}`, { headers: { authorization: "Bearer mistyped-0123456789" } })).status).toBe(401);
  await daemon.stop();
  expect(own.size).toBeGreaterThan(0);
  return { output: daemon.lines.join("\n"), secrets: [...secrets, PERSON].filter((s) => !own.has(s)), own };
}

test("at debug, with failing receivers that echo: no phone number, name or text of the corpus in any log line", async () => {
  const { output, secrets, own } = await runCorpus("");
  expect(secrets.length).toBeGreaterThan(20);
  const leaking = output.split("\n").filter((line) => secrets.some((s) => line.includes(s)));
  expect(leaking).toEqual([]);
  // The person still correlates: the same keyed hash on every line about them.
  const hash = keyedRedactor(redactionKey({ redact: true }, TOKEN)!).person(PERSON);
  const about = output.split("\n").filter((line) => line.includes(hash));
  expect(about.length).toBeGreaterThanOrEqual(3);
  expect(new Set(about.map((l) => JSON.parse(l).msg))).toEqual(new Set(["event", "sms fallback attempt", "request refused"]));
  // The business's own display number stays readable in its alerts' log lines.
  const alert = output.split("\n").map((l) => JSON.parse(l)).find((l) => l.msg === "alert" && l.kind === "phone_number.limit");
  expect(own.has(alert.display_phone_number)).toBe(true);
  expect(alert.title).toBe(`WhatsApp messaging limit lowered for ${alert.display_phone_number}`);
});

test("log.redact = false shows numbers in clear, and says so at start", async () => {
  const { output } = await runCorpus("redact = false");
  const lines = output.split("\n").map((l) => JSON.parse(l) as { level: string; msg: string; to?: string });
  expect(lines.find((l) => l.msg.startsWith("log.redact = false"))?.level).toBe("warn");
  expect(lines.find((l) => l.msg === "sms fallback attempt")?.to).toBe(PERSON);
});
