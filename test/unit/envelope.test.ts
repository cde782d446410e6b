import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { EventEnvelope } from "../../src/events/envelope";
import { envelopeJsonSchema } from "../../src/events/json-schema";
import { hook, pipeline } from "../support/pipeline";

test("docs/event-envelope.schema.json is the schema derived from the zod envelope", async () => {
  const committed = await Bun.file(join(import.meta.dir, "../../docs/event-envelope.schema.json")).json();
  expect(committed).toEqual(envelopeJsonSchema());
});

test("every envelope produced from the fixture corpus satisfies the envelope schema", async () => {
  const p = pipeline([hook({ name: "all", url: "http://127.0.0.1:1/" })]);
  const dir = join(import.meta.dir, "../fixtures/payloads");
  for (const f of readdirSync(dir)) p.post(require(join(dir, f)).payload);
  while ((await p.processor.runOnce()).jobs > 0);
  const envelopes = (p.db.query("SELECT envelope FROM events").all() as { envelope: string }[]).map((r) => JSON.parse(r.envelope));
  expect(envelopes.length).toBeGreaterThan(40);
  for (const e of envelopes) expect(EventEnvelope.safeParse(e).success).toBe(true);
});
