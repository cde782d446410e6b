/**
 * Event ids for one database: `evt_` + a monotonic ULID that follows the newest id in
 * the file, so ids keep growing in commit order across restarts, even when the clock
 * stepped back meanwhile (the stream's Last-Event-ID and the list cursors rely on it).
 * One source per open database, shared by everything that stores events on it.
 */
import type { Database } from "bun:sqlite";
import { monotonicUlid } from "../util/ids";

const sources = new WeakMap<Database, (nowMs: number) => string>();

export function eventIds(db: Database): (nowMs: number) => string {
  let next = sources.get(db);
  if (!next) {
    const newest = db.query<{ id: string | null }, []>("SELECT max(id) id FROM events").get()?.id ?? null;
    const ulid = monotonicUlid(newest === null ? null : newest.slice("evt_".length));
    next = (nowMs) => `evt_${ulid(nowMs)}`;
    sources.set(db, next);
  }
  return next;
}
