/** Messages between the request thread (writer/client.ts) and the writer thread (writer/thread.ts). */
import type { AdminAnswer, AdminOp } from "../admin/ops";
import type { HookRoute } from "../config/schema";
import type { LogLevel } from "../util/log";
import type { WorkerSettings } from "../worker/loop";
import type { SynchronousMode } from "../store/db";
import type { StorageErrorKind } from "../store/errors";
import type { Readiness } from "../store/types";
import type { Gauge } from "../metrics/exposition";
import type { Snapshot } from "../metrics/registry";

export interface WriterOpen {
  type: "open";
  path: string;
  synchronous: SynchronousMode;
  busyTimeoutMs: number;
  logLevel: LogLevel;
  /** Key of the keyed hash that stands for a person in log lines; null: log.redact = false. */
  redactKey: string | null;
  /** How often the writer thread logs its "traffic" summary. */
  trafficIntervalMs: number;
  /** The configured hooks (the admin API replays to them, also with the worker off). */
  hooks: HookRoute[];
  /** Present: run the worker loop (processing and dispatch) in this thread too. */
  worker: WorkerSettings | null;
  /** How far the inbox log holds webhooks durably (store/log-end.ts): what to index, and when. */
  logEnd: SharedArrayBuffer;
}

/** What a SIGHUP reload changes in the writer thread. */
export type WriterSettings = Pick<WriterOpen, "logLevel" | "redactKey" | "trafficIntervalMs" | "hooks" | "worker">;

export type WriterRequest =
  | WriterOpen
  /** How far the index goes durably (the log deletes what lies before). */
  | { type: "indexed"; seq: number }
  | { type: "probe"; seq: number }
  | { type: "admin"; seq: number; op: AdminOp }
  | { type: "metrics"; seq: number }
  | ({ type: "reload"; seq: number } & WriterSettings)
  | { type: "close"; seq: number };

export type WriterReply =
  | { type: "opened"; seq: 0 }
  | { type: "indexed"; seq: number; through: number }
  | { type: "probed"; seq: number; readiness: Readiness }
  | { type: "admin"; seq: number; answer: AdminAnswer }
  | { type: "metrics"; seq: number; snapshot: Snapshot; gauges: Gauge[] }
  | { type: "closed"; seq: number }
  | { type: "reloaded"; seq: number }
  | { type: "failed"; seq: number; kind: StorageErrorKind; code?: string; message: string }
  /** An admin call met a bug, not storage trouble (logged in the writer thread). */
  | { type: "bug"; seq: number; message: string };
