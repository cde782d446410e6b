/**
 * Every pricing category Meta sends is counted in GET /v1/stats' billable messages, on
 * both engines (a real SQLite file and real PostgreSQL, through the real pipeline):
 * Meta's two spellings of a category are one, billability comes from `type` when
 * Meta leaves out the deprecated `billable`, and a message counts once.
 */
import { expect, test } from "bun:test";
import { bothEngines } from "../support/both-engines";
import { statusesPayload } from "../support/webhooks";

const at = String(Math.floor(Date.now() / 1000));
const status = (id: string, s: string, pricing: Record<string, unknown> | null, extra: Record<string, unknown> = {}) => ({
  id,
  status: s,
  timestamp: at,
  recipient_id: "16505551234",
  ...(pricing ? { pricing: { pricing_model: "PMP", ...pricing } } : {}),
  ...extra,
});
const regular = (category: string) => ({ type: "regular", category });
const inGroup = (participant: string) => ({ recipient_id: "120363025246125888", recipient_type: "group", recipient_participant_id: participant });

test("marketing_lite, authentication-international (either spelling), referral_conversion and the group categories are counted on both engines alike", async () => {
  const e = await bothEngines(Date.now() - 60_000);
  await e.both.post([
    statusesPayload(
      status("wamid.LITE", "sent", regular("marketing_lite")), // no `billable`: `regular` is charged
      status("wamid.LITE", "delivered", null),
      status("wamid.INTL1", "delivered", { billable: true, ...regular("authentication-international") }),
      status("wamid.INTL2", "sent", regular("authentication_international")),
      status("wamid.REF", "sent", regular("referral_conversion")),
      status("wamid.FEP", "sent", { type: "free_entry_point", category: "referral_conversion" }), // free: not billable
      status("wamid.SVC", "delivered", { type: "free_customer_service", category: "service" }),
      status("wamid.OFF", "sent", { billable: false, ...regular("utility") }), // an explicit billable still decides
      status("wamid.AUTH", "sent", { billable: true, type: "regular", category: "AUTHENTICATION" }),
    ),
    // A group message: one status per participant, each priced; one billable message.
    statusesPayload(status("wamid.GM", "delivered", regular("group_marketing"), inGroup("16505551234")), status("wamid.GM", "delivered", regular("group_marketing"), inGroup("16505559876"))),
    statusesPayload(status("wamid.GU", "read", regular("group_utility"), inGroup("16505551234")), status("wamid.GS", "delivered", { billable: true, ...regular("group_service") }, inGroup("16505551234"))),
    // Meta's retry of a priced status: still one.
    statusesPayload(status("wamid.LITE", "sent", regular("marketing_lite"))),
  ]);
  const answer = await e.ask({ op: "stats" });
  const billable = (a: typeof answer.pg) => (a.body as { billable_by_day: unknown }).billable_by_day;
  const day = new Date(e.clock.now()).toISOString().slice(0, 10);
  const count = (category: string, messages = 1) => ({ day, category, messages });
  expect(billable(answer.pg)).toEqual([
    count("authentication"),
    count("authentication_international", 2),
    count("group_marketing"),
    count("group_service"),
    count("group_utility"),
    count("marketing_lite"),
    count("referral_conversion"),
  ]);
  expect(billable(answer.lite)).toEqual(billable(answer.pg));
});

test("the funnel counts a voice message's played beside sent, delivered and read, on both engines alike", async () => {
  const e = await bothEngines(Date.now() - 60_000);
  await e.both.post([statusesPayload(status("wamid.VOICE", "sent", null), status("wamid.VOICE", "delivered", null), status("wamid.VOICE", "read", null), status("wamid.VOICE", "played", null))]);
  const answer = await e.ask({ op: "stats" });
  const funnel = (a: typeof answer.pg) => (a.body as { funnel_last_day: unknown }).funnel_last_day;
  expect(funnel(answer.lite)).toEqual({ sent: 1, delivered: 1, read: 1, played: 1, failed: 0, failed_by_code: [] });
  expect(funnel(answer.pg)).toEqual(funnel(answer.lite));
});
