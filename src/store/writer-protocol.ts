/** Messages between the request thread (writer.ts) and the writer thread (writer.worker.ts). */
import type { SynchronousMode } from "./db";
import type { StorageErrorKind } from "./errors";
import type { InboxRecord, Readiness } from "./types";

export interface WriterOpen {
  type: "open";
  path: string;
  synchronous: SynchronousMode;
  busyTimeoutMs: number;
}

export type WriterRequest =
  | WriterOpen
  | { type: "append"; seq: number; records: InboxRecord[] }
  | { type: "probe"; seq: number }
  | { type: "close"; seq: number };

export type WriterReply =
  | { type: "opened"; seq: 0 }
  | { type: "appended"; seq: number; ids: number[] }
  | { type: "probed"; seq: number; readiness: Readiness }
  | { type: "closed"; seq: number }
  | { type: "failed"; seq: number; kind: StorageErrorKind; code?: string; message: string };
