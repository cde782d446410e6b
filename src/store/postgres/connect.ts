/**
 * A pool of connections to the PostgreSQL engine's database (Bun's built-in client).
 * Every connection says which instance it serves (`application_name`, seen in
 * pg_stat_activity), commits synchronously whatever the server's default (an answered
 * COMMIT is on disk: the promise behind every 200), and gives up waiting for a lock after
 * `lockTimeoutMs` instead of queueing forever behind one (the request then gets a 503).
 * An instance frozen inside a transaction (SIGSTOP, a VM paused, a GC stall) would keep
 * its claimed rows locked past their lease, where SKIP LOCKED claims never see them: the
 * server ends such a session after `idleInTransactionMs` (the worker's lease), so the
 * others take the work over as the lease promises.
 */
import { SQL } from "bun";

export interface PostgresSettings {
  url: string;
  /** Connections in this instance's pool. */
  pool: number;
  lockTimeoutMs: number;
  /** This instance's name (config `server.instance`). */
  instance: string;
  /** How long opening a connection may take, in seconds. */
  connectTimeoutS?: number;
  /** A session idle inside a transaction this long is ended by the server (absent: never). */
  idleInTransactionMs?: number;
}

export function openPostgres(s: PostgresSettings): SQL {
  return new SQL(s.url, {
    max: s.pool,
    connectionTimeout: s.connectTimeoutS ?? 5,
    connection: {
      application_name: `wa-webhookd ${s.instance}`.slice(0, 63),
      synchronous_commit: "on",
      lock_timeout: `${s.lockTimeoutMs}ms`,
      ...(s.idleInTransactionMs ? { idle_in_transaction_session_timeout: `${s.idleInTransactionMs}ms` } : {}),
    },
  });
}

/** The server's version as it reports it ("15.10 (Debian 15.10-0+deb12u1)"). */
export async function serverVersion(sql: SQL): Promise<string> {
  const [{ server_version }] = await sql`SHOW server_version`;
  return server_version as string;
}
