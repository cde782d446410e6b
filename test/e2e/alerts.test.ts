/** Operator alerts through the compiled binary: a signed Meta notice in, one alert out to a local sink. */
import { beforeAll, expect, test } from "bun:test";
import { requireBinary, startDaemon, stopAfterEach, tempDir, waitFor, writeConfig } from "../support/daemon";
import { Sink } from "../support/sink";
import { signedPost, textMessage } from "../support/webhooks";
import { WHSEC } from "../support/pipeline";

beforeAll(requireBinary);
const { sinks, daemons } = stopAfterEach();

// Meta's own example (message_template_status_update reference).
const PAUSED = JSON.stringify({
  entry: [
    {
      id: "102290129340398",
      time: 1751247548,
      changes: [
        {
          field: "message_template_status_update",
          value: {
            event: "PAUSED",
            message_template_id: 1689556908129832,
            message_template_name: "order_confirmation",
            message_template_language: "en_US",
            reason: "NONE",
            message_template_category: "UTILITY",
            other_info: { title: "FIRST_PAUSE", description: "Your WhatsApp message template has been paused." },
          },
        },
      ],
    },
  ],
  object: "whatsapp_business_account",
});

test("template PAUSED posted twice: one Slack alert, readable, at once; the alert is logged without secrets", async () => {
  const alerts = new Sink().start();
  sinks.push(alerts);
  const toml = `
[alerts]
url = "http://127.0.0.1:${alerts.port}/slack"
format = "slack"
headers = { Authorization = "Bearer alert-secret-token" }
`;
  const daemon = await startDaemon(writeConfig(tempDir(), { toml }));
  daemons.push(daemon);
  expect((await signedPost(`${daemon.url}/webhook`, PAUSED)).status).toBe(200);
  expect((await signedPost(`${daemon.url}/webhook`, PAUSED)).status).toBe(200);
  await waitFor(() => alerts.received.length >= 1, 10_000);
  await Bun.sleep(1_500); // a second alert would have come by now (new alerts go out at once)
  expect(alerts.received).toHaveLength(1);
  const [alert] = alerts.received;
  expect(alert!.headers.authorization).toBe("Bearer alert-secret-token");
  const { text } = JSON.parse(alert!.body) as { text: string };
  expect(text).toStartWith(':rotating_light: *WhatsApp template "order_confirmation" PAUSED*\n');
  expect(text).toContain("132015");
  const logged = daemon.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "alert");
  expect(logged).toMatchObject([{ level: "warn", kind: "template.paused", to_send: true }]);
  expect(daemon.lines.join("\n")).not.toContain("alert-secret-token");
});

test("an alert sink that never answers holds nothing up: events still reach the hook at once", async () => {
  const alerts = new Sink().start();
  const hook = new Sink().start();
  sinks.push(alerts, hook);
  alerts.respond = () => new Promise(() => {}); // hangs until the test ends
  const toml = `
[alerts]
url = "http://127.0.0.1:${alerts.port}/slack"
timeout = "30s"
[[hooks]]
name = "app"
url = "${hook.url}"
secret = "${WHSEC}"
`;
  const daemon = await startDaemon(writeConfig(tempDir(), { toml }));
  daemons.push(daemon);
  expect((await signedPost(`${daemon.url}/webhook`, PAUSED)).status).toBe(200);
  await waitFor(() => alerts.received.length === 1, 10_000); // the alert is out, unanswered
  expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.AFTER"))).status).toBe(200);
  await waitFor(() => hook.received.some((r) => r.body.includes("wamid.AFTER")), 5_000);
  expect(hook.received.map((r) => JSON.parse(r.body).type)).toEqual(["template.status", "message.received"]);
});
