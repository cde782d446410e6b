/**
 * The PostgreSQL engine's schema migrations, embedded in the binary at build time. Add a
 * file to migrations/postgres/ and a line here; test/unit/postgres-migrate.test.ts fails
 * if the two disagree.
 */
import type { Migration } from "../migrations";
import m0001 from "../../../migrations/postgres/0001_core.sql" with { type: "text" };
import m0002 from "../../../migrations/postgres/0002_instances.sql" with { type: "text" };
import m0003 from "../../../migrations/postgres/0003_storage_copies.sql" with { type: "text" };
import m0004 from "../../../migrations/postgres/0004_scheduled_runs.sql" with { type: "text" };
import m0005 from "../../../migrations/postgres/0005_fallback_alerts.sql" with { type: "text" };
import m0006 from "../../../migrations/postgres/0006_event_stream.sql" with { type: "text" };
import m0007 from "../../../migrations/postgres/0007_admin.sql" with { type: "text" };
import m0008 from "../../../migrations/postgres/0008_identities.sql" with { type: "text" };
import m0009 from "../../../migrations/postgres/0009_day_report_indexes.sql" with { type: "text" };
import m0010 from "../../../migrations/postgres/0010_tracked_number.sql" with { type: "text" };

export const PG_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "0001_core.sql", sql: m0001 },
  { version: 2, name: "0002_instances.sql", sql: m0002 },
  { version: 3, name: "0003_storage_copies.sql", sql: m0003 },
  { version: 4, name: "0004_scheduled_runs.sql", sql: m0004 },
  { version: 5, name: "0005_fallback_alerts.sql", sql: m0005 },
  { version: 6, name: "0006_event_stream.sql", sql: m0006 },
  { version: 7, name: "0007_admin.sql", sql: m0007 },
  { version: 8, name: "0008_identities.sql", sql: m0008 },
  { version: 9, name: "0009_day_report_indexes.sql", sql: m0009 },
  { version: 10, name: "0010_tracked_number.sql", sql: m0010 },
];

export const PG_LATEST_VERSION = PG_MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
