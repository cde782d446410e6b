/**
 * The schema migrations, embedded in the binary at build time. Add a file to
 * migrations/ and a line here; test/unit/migrate.test.ts fails if the two disagree.
 */
import m0001 from "../../migrations/0001_inbox.sql" with { type: "text" };
import m0002 from "../../migrations/0002_events.sql" with { type: "text" };
import m0003 from "../../migrations/0003_bodies_and_progress.sql" with { type: "text" };
import m0004 from "../../migrations/0004_state_clock.sql" with { type: "text" };
import m0005 from "../../migrations/0005_state_history_by_subject.sql" with { type: "text" };
import m0006 from "../../migrations/0006_fallback.sql" with { type: "text" };
import m0007 from "../../migrations/0007_alerts_retention.sql" with { type: "text" };
import m0008 from "../../migrations/0008_event_filters.sql" with { type: "text" };
import m0009 from "../../migrations/0009_stats_by_minute.sql" with { type: "text" };
import m0010 from "../../migrations/0010_queue_counts.sql" with { type: "text" };
import m0011 from "../../migrations/0011_daemon_hooks.sql" with { type: "text" };
import m0012 from "../../migrations/0012_segment_log.sql" with { type: "text" };
import m0013 from "../../migrations/0013_identities.sql" with { type: "text" };
import m0014 from "../../migrations/0014_tracked_number.sql" with { type: "text" };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "0001_inbox.sql", sql: m0001 },
  { version: 2, name: "0002_events.sql", sql: m0002 },
  { version: 3, name: "0003_bodies_and_progress.sql", sql: m0003 },
  { version: 4, name: "0004_state_clock.sql", sql: m0004 },
  { version: 5, name: "0005_state_history_by_subject.sql", sql: m0005 },
  { version: 6, name: "0006_fallback.sql", sql: m0006 },
  { version: 7, name: "0007_alerts_retention.sql", sql: m0007 },
  { version: 8, name: "0008_event_filters.sql", sql: m0008 },
  { version: 9, name: "0009_stats_by_minute.sql", sql: m0009 },
  { version: 10, name: "0010_queue_counts.sql", sql: m0010 },
  { version: 11, name: "0011_daemon_hooks.sql", sql: m0011 },
  { version: 12, name: "0012_segment_log.sql", sql: m0012 },
  { version: 13, name: "0013_identities.sql", sql: m0013 },
  { version: 14, name: "0014_tracked_number.sql", sql: m0014 },
];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
