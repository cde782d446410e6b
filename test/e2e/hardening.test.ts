/** The compiled binary under hostile input, slow clients, hostile hooks and storage faults. */
import { Database } from "bun:sqlite";
import { afterEach, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { WHSEC } from "../support/pipeline";
import { Sink } from "../support/sink";
import { requireBinary, startDaemon, tempDir, waitFor, writeConfig } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);
const sinks: Sink[] = [];
afterEach(() => sinks.splice(0).forEach((s) => s.stop()));

const hookToml = (url: string) => `\n[[hooks]]\nname = "app"\nurl = "${url}"\nsecret = "${WHSEC}"\n`;

test("a valid POST with a 100k-deep item, Object-named fields and null items: every sibling delivered, the job done", async () => {
  const sink = new Sink().start();
  sinks.push(sink);
  const dir = tempDir();
  const daemon = await startDaemon(writeConfig(dir, { maxBodyBytes: 4 * 1024 * 1024, toml: hookToml(sink.url) }));
  try {
    const good = JSON.parse(textMessage("wamid.SIBLING"));
    const change = good.entry[0].changes[0];
    const deep = "{\"a\":".repeat(100_000) + "1" + "}".repeat(100_000);
    const message = JSON.stringify({ ...change.value.messages[0], id: "wamid.DEEP" }).replace('"type":"text"', `"type":"text","nested":${deep}`);
    const value = JSON.stringify(change.value).replace(/"messages":\[/, `"messages":[${message},`);
    const body =
      `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1e15,"changes":[` +
      `{"field":"constructor","value":{}},{"field":"calls","value":{"calls":[null]}},{"field":"messages","value":${value}}]}]}`;
    expect((await signedPost(`${daemon.url}/webhook`, body)).status).toBe(200);
    await waitFor(() => sink.received.length === 4);
    const types = sink.received.map((r) => JSON.parse(r.body) as { type: string; data: { wamid?: string; reason?: string } });
    expect(types.map((e) => `${e.type} ${e.data.wamid ?? e.data.reason ?? ""}`).sort()).toEqual([
      "message.received wamid.SIBLING",
      "webhook.unknown item is not an object",
      "webhook.unknown nested deeper than 64 levels",
      "webhook.unknown ",
    ].sort());
  } finally {
    expect(await daemon.stop()).toBe(0);
  }
  const db = new Database(join(dir, "data/wa.db"), { readonly: true });
  expect(db.query("SELECT state, last_error FROM inbox").all()).toEqual([{ state: "done", last_error: null }]);
  db.close();
}, 30_000);
