/**
 * The writer thread: owns the connection that commits inbox batches, so the
 * request thread keeps accepting webhooks while a commit waits on fsync.
 */
import type { Database } from "bun:sqlite";
import { openDatabase } from "./db";
import { toStorageError } from "./errors";
import { sqliteProbe } from "./health-store";
import { sqliteInbox, type SqliteInbox } from "./inbox-store";
import type { WriterReply, WriterRequest } from "./writer-protocol";

declare const self: Worker;

let db: Database | null = null;
let inbox: SqliteInbox | null = null;
let probe: (() => ReturnType<ReturnType<typeof sqliteProbe>>) | null = null;

const reply = (message: WriterReply) => self.postMessage(message);

const fail = (seq: number, err: unknown) => {
  const e = toStorageError(err);
  reply({ type: "failed", seq, kind: e.kind, code: e.code, message: e.message });
};

self.onmessage = (event: MessageEvent<WriterRequest>) => {
  const msg = event.data;
  switch (msg.type) {
    case "open":
      try {
        // The request thread has already migrated the schema; this only connects.
        db = openDatabase(msg.path, { synchronous: msg.synchronous, busyTimeoutMs: msg.busyTimeoutMs, autoCheckpoint: false });
        inbox = sqliteInbox(db);
        probe = sqliteProbe(db, Date.now);
        reply({ type: "opened", seq: 0 });
      } catch (err) {
        fail(0, err);
      }
      return;
    case "append":
      try {
        reply({ type: "appended", seq: msg.seq, ids: inbox!.insertBatch(msg.records) });
      } catch (err) {
        fail(msg.seq, err);
      }
      return;
    case "probe":
      reply({ type: "probed", seq: msg.seq, readiness: probe!() });
      return;
    case "close":
      try {
        db?.close();
        db = null;
        reply({ type: "closed", seq: msg.seq });
      } catch (err) {
        fail(msg.seq, err);
      }
  }
};
