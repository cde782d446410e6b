/**
 * Records alerts, in the caller's transaction (the event, the hold, the dead
 * delivery and its alert commit together). One row per occurrence (dedup_key);
 * sent only when [alerts] has a url and its `events` want the kind, else kept as
 * `recorded`. Every new alert is also a log line. Recording never waits on the
 * network: the `alerts` job sends.
 */
import type { Database } from "bun:sqlite";
import type { AlertSettings } from "../config/schema";
import { globToRegExp } from "../events/type-glob";
import { alertStore } from "../store/alert-store";
import type { Logger } from "../util/log";
import type { AlertDraft } from "../domain/alert";
import { alertForEvent, hookDeadAlert, type AlertSource } from "./rules";

export class Alerter {
  readonly store;
  readonly #wanted: RegExp[];

  constructor(
    db: Database,
    private readonly settings: AlertSettings,
    private readonly log: Logger,
    /** Called after a new alert that will be sent: the sender runs soon. */
    private readonly onNew: () => void,
  ) {
    this.store = alertStore(db);
    this.#wanted = settings.events.map(globToRegExp);
  }

  /** True when this occurrence is new. */
  raise(draft: AlertDraft, now: number): boolean {
    const send = this.settings.url !== undefined && this.#wanted.some((re) => re.test(draft.kind));
    const id = this.store.insert(draft, send ? "pending" : "recorded", now);
    if (id === null) return false;
    // The business's own numbers the alert names stay readable in its title (util/log.ts).
    const { phone_number_id, display_phone_number } = draft.data;
    this.log.warn("alert", { alert_id: id, kind: draft.kind, title: draft.title, sent: send, phone_number_id, display_phone_number });
    if (send) this.onNew();
    return true;
  }

  fromEvent(event: AlertSource, now: number) {
    const draft = alertForEvent(event, now);
    if (draft) this.raise(draft, now);
  }

  /** The dispatcher gave a delivery up (its `onGivenUp`). */
  readonly hookGivenUp = (hook: string, eventId: string, reason: string | null, now: number) => void this.raise(hookDeadAlert(hook, eventId, reason, now), now);
}
