/**
 * Records alerts, in the caller's transaction (the event, the hold, the dead
 * delivery and its alert commit together). One row per occurrence (dedup_key);
 * sent only when [alerts] has a url and its `events` want the kind, else kept as
 * `recorded`. Every new alert is also a log line. Recording never waits on the
 * network: the `alerts` job sends.
 */
import type { AlertSettings } from "../config/schema";
import { globMatcher, type GlobMatcher } from "../events/type-glob";
import type { AlertStore } from "../store/alert-store";
import type { Logger } from "../util/log";
import type { AlertDraft } from "../domain/alert";
import type { GivenUp } from "../domain/delivery";
import { alertsForEvent, hookDeadAlert, type AlertSource } from "./rules";

export class Alerter {
  readonly #wanted: GlobMatcher[];

  constructor(
    /** Inserts one occurrence, answering its id (null: alerted before). On PostgreSQL a transaction's unit of work collects them instead (store/postgres/fallback-unit.ts). */
    private readonly store: Pick<AlertStore, "insert">,
    private readonly settings: AlertSettings,
    private readonly log: Logger,
    /** Called after a new alert that will be sent: the sender runs soon. */
    private readonly onNew: () => void,
  ) {
    this.#wanted = settings.events.map(globMatcher);
  }

  /** True when this occurrence is new. */
  raise(draft: AlertDraft, now: number): boolean {
    const state = this.stateFor(draft);
    const id = this.store.insert(draft, state, now);
    if (id === null) return false;
    this.announce(id, draft, state);
    return true;
  }

  /** `pending` (to be sent) when [alerts] has a url and its `events` want the kind; else kept as `recorded`. */
  stateFor(draft: AlertDraft): "pending" | "recorded" {
    return this.settings.url !== undefined && this.#wanted.some((matcher) => matcher.test(draft.kind)) ? "pending" : "recorded";
  }

  /** Once the new alert is stored: its log line, and the sender woken when it is to be sent. */
  announce(id: number, draft: AlertDraft, state: "pending" | "recorded") {
    // The business's own numbers the alert names stay readable in its title (util/log.ts).
    const { phone_number_id, display_phone_number } = draft.data;
    this.log.warn("alert", { alert_id: id, kind: draft.kind, title: draft.title, to_send: state === "pending", phone_number_id, display_phone_number });
    if (state === "pending") this.onNew();
  }

  fromEvent(event: AlertSource, now: number) {
    for (const draft of alertsForEvent(event, now)) this.raise(draft, now);
  }

  /** The dispatcher gave a delivery up (its `onGivenUp`). */
  readonly hookGivenUp = (given: GivenUp, now: number) => void this.raise(hookDeadAlert(given, now), now);
}
