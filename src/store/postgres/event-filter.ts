/**
 * The admin filters of events (type, number, wamid, person, time) as PostgreSQL
 * conditions with numbered parameters: the same conditions as SQLite's pageQuery
 * (store/event-query.ts), shared by the event pages and the live stream.
 */
import type { EventFilter } from "../event-query";
import { eventIdFloor } from "../../util/ids";

export type Param = string | number | string[];

/** The filter's conditions (none: "true"), numbering its parameters after those already in `params`. */
export function filterConditions(f: EventFilter, params: Param[]): string[] {
  const where: string[] = [];
  const add = (sql: (n: number) => string, p: Param) => (params.push(p), where.push(sql(params.length)));
  if (f.wamid !== null) add((n) => `wamid = $${n}`, f.wamid);
  if (f.waId !== null && f.person) add((n) => `wa_id = ANY($${n}::text[])`, [...f.person]);
  else if (f.waId !== null) add((n) => `wa_id = $${n}`, f.waId);
  if (f.types !== null) add((n) => `type = ANY($${n}::text[])`, [...f.types]);
  if (f.phoneNumberId !== null) add((n) => `phone_number_id = $${n}`, f.phoneNumberId);
  if (f.since !== null) {
    add((n) => `id >= $${n}`, eventIdFloor(f.since));
    add((n) => `received_at >= $${n}`, f.since);
  }
  if (f.until !== null) add((n) => `received_at < $${n}`, f.until);
  return where;
}
