/** Webhook bodies parsed without losing digits (util/json.ts). */
import { expect, test } from "bun:test";
import { parseJsonExact } from "../../src/util/json";
import { pipeline } from "../support/pipeline";

test("integers a double cannot hold keep their digits; everything else parses as JSON.parse does", () => {
  expect(parseJsonExact('{"id":9007199254740993,"n":[12345678901234567890,-9007199254740995]}')).toEqual({ id: "9007199254740993", n: ["12345678901234567890", "-9007199254740995"] });
  const ordinary = '{"id":1689556908129832,"f":1.5,"e":1e300,"s":"12345678901234567890","t":"x"}';
  expect(parseJsonExact(ordinary)).toEqual(JSON.parse(ordinary));
  // The edge: 2^53 - 1 is the last integer a double holds exactly, 2^53 the first it may not.
  expect(parseJsonExact('{"a":9007199254740991,"b":9007199254740992,"c":-9007199254740992}')).toEqual({ a: 9007199254740991, b: "9007199254740992", c: "-9007199254740992" });
  expect(() => parseJsonExact("{not json 12345678901234567")).toThrow(SyntaxError);
});

test("a template id past 2^53 is stored and forwarded with its own digits: two such templates stay two", async () => {
  const p = pipeline();
  const update = (id: string, name: string) =>
    `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1751247548,"changes":[{"field":"message_template_quality_update","value":{"previous_quality_score":"GREEN","new_quality_score":"RED","message_template_id":${id},"message_template_name":"${name}","message_template_language":"en_US"}}]}]}`;
  p.post(update("9007199254740993", "one"));
  p.post(update("9007199254740992", "two"));
  while ((await p.processor.runOnce(100, 1_000)).jobs > 0);
  const rows = p.db.query<{ envelope: string }, []>("SELECT envelope FROM events ORDER BY id").all().map((r) => JSON.parse(r.envelope));
  expect(rows.map((e) => e.data.message_template_id)).toEqual(["9007199254740993", "9007199254740992"]);
  expect(rows[0].raw.message_template_id).toBe("9007199254740993");
  expect(p.db.query("SELECT template_id, name FROM templates ORDER BY name").all()).toEqual([
    { template_id: "9007199254740993", name: "one" },
    { template_id: "9007199254740992", name: "two" },
  ]);
});
