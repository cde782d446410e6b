/**
 * Which stored events an operator command means. Every key is always present
 * (null = no constraint), so a misspelt or forgotten filter is a type error
 * instead of a silent "everything".
 */
export interface EventSelection {
  eventId: string | null;
  /** An event type or a glob on it (`message.*`); only `*` is special. */
  type: string | null;
  /** unix ms, received_at ≥ since */
  since: number | null;
  /** unix ms, received_at < until */
  until: number | null;
}
