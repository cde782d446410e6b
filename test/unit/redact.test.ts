import { expect, test } from "bun:test";
import { captureConsole, createLogger } from "../../src/util/log";
import { keyedRedactor, noRedaction, redactionKey } from "../../src/util/redact";

const r = keyedRedactor("k1");

test("a person is a stable keyed hash: the same number gives the same hash, another key another one", () => {
  expect(r.person("16505551234")).toMatch(/^wa_[0-9a-f]{12}$/);
  expect(r.person("16505551234")).toBe(r.person("+1 650-555-1234"));
  expect(r.person("16505551234")).not.toBe(r.person("16505551235"));
  expect(keyedRedactor("k2").person("16505551234")).not.toBe(r.person("16505551234"));
});

test("free text keeps its words, dates, addresses and short numbers; phone numbers in it are hashed", () => {
  const hash = r.person("16505551234");
  expect(r.text("provider said: 16505551234 is not a mobile")).toBe(`provider said: ${hash} is not a mobile`);
  expect(r.text("invalid number +1 (650) 555-1234")).toBe(`invalid number ${hash}`);
  expect(r.text("HTTP 500 at 2026-11-24 from 10.200.30.40:443 after 10000 ms")).toBe("HTTP 500 at 2026-11-24 from 10.200.30.40:443 after 10000 ms");
  // A date with its time, however written, is not a 10- to 14-digit number; one beside it still is.
  expect(r.text("retry at 2026-11-24 10:00 (not_after 2026-11-24T12:30:00Z) for 16505551234")).toBe(`retry at 2026-11-24 10:00 (not_after 2026-11-24T12:30:00Z) for ${hash}`);
  expect(r.text("sent 2026-11-24 16505551234")).toBe(`sent 2026-11-24 ${hash}`);
  // Template and account ids are longer than any phone number.
  expect(r.text("template 1234567890123456 paused")).toBe("template 1234567890123456 paused");
  // A size or a time with its unit is not a number to hide; the same digits without one are.
  expect(r.text("body exceeds server.max_body_bytes (4194304 bytes)")).toBe("body exceeds server.max_body_bytes (4194304 bytes)");
  expect(r.text("gave up after 1200000 ms; 16505551234 unreachable")).toBe(`gave up after 1200000 ms; ${hash} unreachable`);
  expect(r.text("code (4194304) for 16505551234")).toBe(`code ${r.person("(4194304")}) for ${hash}`);
});

test("the key comes from log.redact_key, else from the admin token (not the token itself); none when redact is off", () => {
  expect(redactionKey({ redact: true, redact_key: "mine" }, "admin-token-0123456789")).toBe("mine");
  const derived = redactionKey({ redact: true }, "admin-token-0123456789")!;
  expect(derived).toMatch(/^[0-9a-f]{64}$/);
  expect(derived).not.toContain("admin-token");
  expect(redactionKey({ redact: false, redact_key: "mine" }, "admin-token-0123456789")).toBeNull();
});

test("the logger hashes person fields, wamids and phone numbers in free-text fields, errors included", () => {
  const lines: string[] = [];
  const log = createLogger("debug", (l) => lines.push(l), r);
  // Meta's wamid is base64 of a record holding the number: "NDQ3NzAwOTAwMTIz" is "447700900123".
  const wamid = "wamid.HBgLNDQ3NzAwOTAwMTIzFQIAERgSM0VCMEM3NjdEMjZBMUMyQjBCAA==";
  log.info("sms", { to: "16505551234", wamid, error: "rejected 16505551234", count: 3 });
  log.error("failed", { error: new Error("number 16505551234 unreachable") });
  log.warn("refused", { reason: `no message ${wamid} here` });
  const [sms, failed, refused] = lines.map((l) => JSON.parse(l));
  const hash = r.person("16505551234");
  expect(sms).toMatchObject({ to: hash, wamid: r.message(wamid), error: `rejected ${hash}`, count: 3 });
  expect(r.message(wamid)).toMatch(/^wm_[0-9a-f]{12}$/);
  expect(r.message(wamid)).toBe(r.message(wamid)); // stable: lines about one message still correlate
  expect(failed.error).toBe(`number ${hash} unreachable`);
  expect(refused.reason).toBe(`no message ${r.message(wamid)} here`);
  expect(lines.join("\n")).not.toContain("16505551234");
  expect(lines.join("\n")).not.toContain("NDQ3NzAwOTAwMTIz");
  const clear: string[] = [];
  createLogger("info", (l) => clear.push(l), noRedaction).info("sms", { to: "16505551234", wamid });
  expect(JSON.parse(clear[0]!)).toMatchObject({ to: "16505551234", wamid });
});

test("the business's own numbers named in phone_number_id / display_phone_number stay in clear in that line's free text; request paths are redacted", () => {
  const lines: string[] = [];
  const log = createLogger("info", (l) => lines.push(l), r);
  log.warn("alert", { title: "WhatsApp quality of 15550783881 flagged", display_phone_number: "15550783881" });
  log.warn("alert", { title: "WhatsApp sends failing for 106540352242922, customer 16505551234", phone_number_id: "106540352242922" });
  log.warn("alert", { title: "WhatsApp quality of 15550783881 flagged" }); // not said to be the business's: hashed
  log.warn("request refused", { path: "/v1/contacts/+16505551234", reason: "wrong token" });
  const [quality, failing, unnamed, refused] = lines.map((l) => JSON.parse(l));
  expect(quality).toMatchObject({ title: "WhatsApp quality of 15550783881 flagged", display_phone_number: "15550783881" });
  expect(failing.title).toBe(`WhatsApp sends failing for 106540352242922, customer ${r.person("16505551234")}`);
  expect(unnamed.title).toBe(`WhatsApp quality of ${r.person("15550783881")} flagged`);
  expect(refused.path).toBe(`/v1/contacts/${r.person("16505551234")}`);
});

test("what the runtime prints (console.warn/error) becomes a JSON log line, phone numbers in it hashed", () => {
  const lines: string[] = [];
  const saved = { warn: console.warn, error: console.error };
  try {
    captureConsole(createLogger("info", (l) => lines.push(l), r));
    console.warn('bun:sql LISTEN "wa_inbox" failed, retrying:', new Error("Failed to connect"));
    console.error("reply to", 16505551234, "failed");
  } finally {
    Object.assign(console, saved);
  }
  const parsed = lines.map((l) => JSON.parse(l));
  expect(parsed[0]).toMatchObject({ level: "warn", msg: "runtime says", reason: 'bun:sql LISTEN "wa_inbox" failed, retrying: Failed to connect' });
  expect(parsed[1]).toMatchObject({ level: "error", msg: "runtime says", reason: `reply to ${r.person("16505551234")} failed` });
});

test("a wamid in free text is hashed once: its hash's hex digits are never taken for a number and hashed again", () => {
  const r = keyedRedactor("k");
  for (let i = 0; i < 2000; i++) {
    const wamid = `wamid.HBgL${Buffer.from(`16505551234-${i}-${"x".repeat(i % 7)}`).toString("base64")}`;
    expect(r.text(`reaction to ${wamid}`)).toBe(`reaction to ${r.message(wamid)}`);
  }
  expect(r.text("from 16505551234 about wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRB and +1 650 555 4321")).toBe(
    `from ${r.person("16505551234")} about ${r.message("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRB")} and ${r.person("+1 650 555 4321")}`,
  );
});
