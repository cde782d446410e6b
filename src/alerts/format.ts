/** The alert request body (pure): Slack-style `{"text"}` for a person, or the whole alert as JSON. */
import type { AlertSettings } from "../config/schema";
import type { AlertRow } from "../domain/alert";

export function alertBody(format: AlertSettings["format"], a: AlertRow): string {
  if (format === "slack") {
    const mark = a.severity === "critical" ? ":rotating_light:" : ":warning:";
    return JSON.stringify({ text: `${mark} *${slackEscaped(a.title)}*\n${slackEscaped(a.text)}` });
  }
  return JSON.stringify({
    id: a.id,
    kind: a.kind,
    severity: a.severity,
    title: a.title,
    text: a.text,
    data: JSON.parse(a.data),
    created_at: new Date(a.created_at).toISOString(),
    source: "wa-webhookd",
  });
}

/**
 * Slack reads `<…>` as a link or a mention (`<!channel>`, `<https://x|shown text>`): text
 * Meta relays (a template's reason, a description) is escaped as Slack asks, shown as written.
 */
const slackEscaped = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
