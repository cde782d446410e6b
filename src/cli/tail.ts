/**
 * `wa-webhookd tail --config F [--type G] [--json]`: events as they are stored, one
 * line each, from the database itself (read-only, so it works beside the running
 * daemon and without it). The same query as GET /v1/events/stream (admin/events.ts).
 */
import type { OperatorConfig } from "../config/schema";
import { eventFilter, eventsAfter } from "../admin/events";
import { openExisting, UsageError } from "./operator";

const POLL_MS = 250;
const BATCH = 500;

type Envelope = { id: string; type: string; received_at: string; data: Record<string, unknown> };

export async function runTail(config: OperatorConfig, type: string | null, json: boolean): Promise<number> {
  const filter = eventFilter({ type: type ?? undefined });
  if (typeof filter === "string") throw new UsageError(`--${filter}`);
  const db = openExisting(config.storage.path, config.storage.synchronous);
  let stopped = false;
  const stop = () => (stopped = true);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    let after: string | null = null;
    while (!stopped) {
      const batch = eventsAfter(db, filter, after, BATCH);
      for (const event of batch.events as Envelope[]) process.stdout.write((json ? JSON.stringify(event) : line(event)) + "\n");
      after = batch.last;
      if (batch.events.length < BATCH) await Bun.sleep(POLL_MS);
    }
    return 0;
  } finally {
    db.close();
  }
}

/** time, type, wamid, a short summary; no phone numbers or message text. */
export function line(e: Envelope): string {
  const d = e.data;
  const wamid = typeof d.wamid === "string" ? d.wamid : typeof d.id === "string" && e.type === "message.echo" ? d.id : "-";
  return [e.received_at, e.type.padEnd(20), wamid, summary(e.type, d)].join("  ");
}

function summary(type: string, d: Record<string, unknown>): string {
  const code = (d.errors as { code?: unknown }[] | null | undefined)?.[0]?.code;
  switch (type) {
    case "message.received":
      return `${String(d.type ?? "")} message`;
    case "message.status":
      return `${String(d.status ?? "")}${code !== undefined ? ` (error ${String(code)})` : ""}`;
    case "message.fallback":
      return `sms ${String(d.outcome ?? "")}`;
    case "template.status":
      return `${String(d.message_template_name ?? d.name ?? "")} ${String(d.event ?? d.status ?? "")}`.trim();
    default:
      return "";
  }
}
