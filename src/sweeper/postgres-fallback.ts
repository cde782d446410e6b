/**
 * SMS fallback and alerts on the PostgreSQL engine, for one instance of several: the
 * tracker and the alerter the processor calls inside its batches (run on the batch's
 * unit of work, store/postgres/fallback-unit.ts), the `stale`, `fallback` and `alerts`
 * jobs (run once per schedule across the cluster by cluster-jobs.ts; a decision made
 * here also runs the sender here at once), and what the admin API asks of them.
 * The rules are the SQLite engine's (tracker.ts, transitions.ts, stale-plan.ts,
 * alerts/rules.ts); only the storage differs.
 */
import type { SQL } from "bun";
import { Alerter } from "../alerts/alerter";
import { hookDeadAlert } from "../alerts/rules";
import { AlertSender } from "../alerts/sender";
import type { Config } from "../config/schema";
import type { AlertDraft } from "../domain/alert";
import type { GivenUp } from "../domain/delivery";
import { eventPlanner, type PlanEvent } from "../events/raise";
import { insertAlerts, postgresAlertQueue } from "../store/postgres/alert-queue";
import { FallbackUnit, inUnit, readUnit, type StoredAlert } from "../store/postgres/fallback-unit";
import type { FollowUp } from "../store/postgres/processing-engine";
import { postgresSendQueue } from "../store/postgres/send-queue";
import { postgresSweeper } from "../store/postgres/sweeper-engine";
import type { Clock } from "../util/clock";
import type { Logger } from "../util/log";
import type { ClusterJob } from "./cluster-jobs";
import { FallbackSender } from "./sender";
import { postgresStaleJob } from "./stale-postgres";
import { wakeAt } from "./start";
import { Tracker, type Registration } from "./tracker";
import { resolveUnknown } from "../admin/ops";

type Settings = Pick<Config, "fallback" | "sweeper" | "hooks" | "alerts">;

export class PostgresFallback {
  readonly planEvent: PlanEvent;
  readonly alerter: Alerter;
  /** For the processor: null when fallback is off (nothing is tracked). */
  readonly tracker: Pick<Tracker, "onStatuses"> | null;
  readonly jobs: ClusterJob[] = [];
  readonly #sweeper;
  /** The SMS queue all instances share (store/postgres/send-queue.ts). */
  readonly sends;
  /** The unit of work of the batch whose `after` runs now (synchronously), if any. */
  #unit: { unit: FallbackUnit; tracker: Tracker<FallbackUnit> | null } | null = null;
  readonly #kicks = new Map<string, () => void>();
  /** Kicks run jobs only once the daemon started them (as the SQLite engine's Jobs): a test drives them by hand. */
  #started = false;

  constructor(
    private readonly sql: SQL,
    private readonly settings: Settings,
    eventId: (nowMs: number) => string,
    private readonly clock: Clock,
    private readonly log: Logger,
    instance: string,
  ) {
    const { fallback, alerts, sweeper } = settings;
    this.planEvent = eventPlanner(eventId, settings.hooks);
    this.alerter = new Alerter({ insert: (draft, state, now) => this.#current().unit.alerts.insert(draft, state, now) }, alerts, log, this.kick("alerts"));
    this.#sweeper = postgresSweeper(sql);
    this.sends = postgresSendQueue(sql, (unit) => this.#trackerFor(unit, () => {}), this.planEvent);
    this.tracker = fallback.enabled ? { onStatuses: (statuses, now) => this.#current().tracker!.onStatuses(statuses, now) } : null;
    const sms = fallback.sms;
    if (fallback.enabled && sms) {
      const sender = new FallbackSender(this.sends, sms, clock, log, instance, { alerter: { raise: (d: AlertDraft, now: number) => this.raiseAlert(d, now) }, after: alerts.sms_failures }, undefined, wakeAt(this.kick("fallback"), clock));
      const send = async () => ({ ...(await sender.run(sms.concurrency)) });
      this.#local("fallback", send);
      this.jobs.push(
        { name: "stale", schedule: sweeper.schedule, run: postgresStaleJob(this.#sweeper, fallback, sweeper.batch_size, clock, log, this.planEvent, this.alerter, this.kick("fallback")) },
        { name: "fallback", schedule: sweeper.fallback_schedule, run: send },
      );
    }
    if (alerts.url) {
      const sender = new AlertSender(postgresAlertQueue(sql), { ...alerts, url: alerts.url }, clock, log, instance);
      const send = async () => ({ ...(await sender.run(100)) });
      this.#local("alerts", send);
      this.jobs.push({ name: "alerts", schedule: alerts.schedule, run: send });
    }
  }

  /** The processing engine's follow-up: the batch's `after` on a unit loaded for its statuses' messages. */
  readonly followUp: FollowUp = async (tx, wamids, now, body) => {
    let due = false;
    const unit = await FallbackUnit.load(tx, this.tracker ? wamids : [], this.planEvent);
    this.#unit = { unit, tracker: this.tracker ? this.#trackerFor(unit, () => (due = true)) : null };
    try {
      body();
    } finally {
      this.#unit = null;
    }
    const { alerts } = await unit.flush(tx, now);
    return () => {
      this.#announce(alerts);
      if (due) this.kick("fallback")();
    };
  };

  /** A job run now on this instance (a decision made here, a retry come due); one run at a time, a request during it runs once more after. */
  kick(name: string): () => void {
    return () => {
      if (this.#started) this.#kicks.get(name)?.();
    };
  }

  /** From now on, kicks run their jobs (the daemon calls it with the schedules). */
  start() {
    this.#started = true;
  }

  /** SMS claimed by an earlier run of this instance: claimable again at once. */
  recover(instance: string): Promise<number> {
    return this.sends.recoverSends(instance);
  }

  /** An alert outside any batch (a hook given up, the SMS provider failing): stored once per occurrence, then announced. */
  async raiseAlert(draft: AlertDraft, now: number): Promise<void> {
    try {
      this.#announce(await insertAlerts(this.sql, [{ draft, state: this.alerter.stateFor(draft) }], now));
    } catch (err) {
      this.log.error("alert not recorded: the database did not answer", { kind: draft.kind, error: err });
    }
  }

  /** The dispatcher's onGivenUp. */
  readonly hookGivenUp = (given: GivenUp, now: number) => void this.raiseAlert(hookDeadAlert(given, now), now);

  // ——— the admin API ———

  async register(items: readonly Registration[], now: number) {
    const { result } = await inUnit(this.sql, items.map((i) => i.wamid), this.planEvent, now, (unit) => {
      const tracker = this.#trackerFor(unit, () => {});
      return items.map((item) => tracker.register(item, now));
    });
    return result;
  }

  async resolve(wamid: string, action: "resend" | "mark-sent", now: number): Promise<boolean> {
    const { result } = await inUnit(this.sql, [wamid], this.planEvent, now, (unit) => resolveUnknown(this.#trackerFor(unit, () => {}), wamid, action, now));
    if (result && action === "resend") this.kick("fallback")();
    return result;
  }

  /** The message's tracked row, SMS and moves as stored now. */
  read(wamid: string) {
    return readUnit(this.sql, [wamid], this.planEvent);
  }

  resume(now: number) {
    return this.#sweeper.setHeld("stale", null, now);
  }

  #current() {
    if (!this.#unit) throw new Error("tracking outside a processing batch's transaction");
    return this.#unit;
  }

  #trackerFor(unit: FallbackUnit, onDue: () => void): Tracker<FallbackUnit> {
    return new Tracker(unit, unit, this.settings.fallback, unit.raise, this.planEvent, null, this.log, onDue);
  }

  #announce(alerts: readonly StoredAlert[]) {
    for (const a of alerts) this.alerter.announce(a.id, a.draft, a.state);
  }

  #local(name: string, run: () => Promise<unknown>) {
    let running = false;
    let again = false;
    const go = async () => {
      if (running) return void (again = true);
      running = true;
      try {
        do {
          again = false;
          await run();
        } while (again);
      } catch (err) {
        this.log.warn("job run failed", { job: name, error: err });
      } finally {
        running = false;
      }
    };
    this.#kicks.set(name, () => void setTimeout(go, 0));
  }
}
