/** Alert kinds (public contract: docs/alerts.md); `[alerts] events` globs pick among them. */
export const ALERT_KINDS = [
  "template.paused",
  "template.disabled",
  "template.rejected",
  "template.flagged",
  "phone_number.quality",
  "phone_number.limit",
  "account.restricted",
  "account.violation",
  "account.banned",
  "account.disconnected",
  "account.reconnected",
  "account.alert",
  "message.business_error",
  "fallback.held",
  "sms.failing",
  "hook.dead",
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** An alert before it is stored: `key` makes it one per occurrence. */
export interface AlertDraft {
  kind: AlertKind;
  key: string;
  severity: "critical" | "warning";
  title: string;
  /** For a person: what happened and what to do. */
  text: string;
  data: Record<string, unknown>;
}

/** An alert as stored (alerts), `data` as JSON text. */
export interface AlertRow {
  id: number;
  kind: string;
  dedup_key: string;
  severity: string;
  title: string;
  text: string;
  data: string;
  state: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

/** What one attempt to send an alert came to. */
export type AlertOutcome = { state: "sent" | "dead"; status: number | null; error: string | null } | { state: "pending"; status: number | null; error: string | null; retryAt: number };
