/**
 * Storage failures, classified so callers can answer correctly: every kind here
 * means "not stored", which the webhook turns into a 503 (Meta retries), never a 4xx.
 * And what is not storage trouble at all: a bug (InternalError).
 */
export type StorageErrorKind = "busy" | "full" | "readonly" | "io" | "corrupt" | "gone" | "other";

export class StorageError extends Error {
  constructor(
    readonly kind: StorageErrorKind,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "StorageError";
  }
}

const KIND_BY_CODE: [prefix: string, kind: StorageErrorKind][] = [
  ["SQLITE_BUSY", "busy"],
  ["SQLITE_LOCKED", "busy"],
  ["SQLITE_FULL", "full"],
  ["SQLITE_READONLY", "readonly"],
  ["SQLITE_IOERR", "io"],
  ["SQLITE_CANTOPEN", "io"],
  ["SQLITE_CORRUPT", "corrupt"],
  ["SQLITE_NOTADB", "corrupt"],
  // The inbox log's own files (store/segment-log.ts).
  ["ENOSPC", "full"],
  ["EDQUOT", "full"],
  ["EROFS", "readonly"],
  ["EIO", "io"],
];

export function toStorageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const sqlstate = typeof (err as { errno?: unknown })?.errno === "string" ? `${code} ${(err as { errno: string }).errno}` : code;
  return new StorageError(postgresKind(err) ?? kindOf(code) ?? "other", message, sqlstate);
}

const kindOf = (code: string | undefined): StorageErrorKind | undefined => KIND_BY_CODE.find(([prefix]) => code?.startsWith(prefix))?.[1];

/**
 * PostgreSQL server errors by SQLSTATE (class or full code), for Bun's
 * ERR_POSTGRES_SERVER_ERROR. Unlisted ones (a constraint our SQL broke, a syntax error)
 * are bugs, not storage trouble.
 */
const KIND_BY_SQLSTATE: [prefix: string, kind: StorageErrorKind][] = [
  ["53100", "full"], // disk full
  ["53", "busy"], // too many connections, out of memory
  ["55P03", "busy"], // lock_timeout
  ["57014", "busy"], // statement cancelled (statement_timeout)
  ["40", "busy"], // serialization failure, deadlock: tried again
  ["08", "gone"], // connection exception
  ["57P", "gone"], // admin or crash shutdown, cannot connect now
  ["3D000", "gone"], // the database does not exist
  ["28", "gone"], // authentication refused
  ["25006", "readonly"], // a read-only transaction (a standby, default_transaction_read_only)
  ["58", "io"], // system error
  ["XX001", "corrupt"],
  ["XX002", "corrupt"],
];

/** Bun's client errors that mean the database could not be reached or the connection was lost. */
const GONE = /^ERR_POSTGRES_(CONNECTION_|IDLE_TIMEOUT|LIFETIME_TIMEOUT|TLS_|AUTHENTICATION|SASL_|UNSUPPORTED_AUTHENTICATION|UNKNOWN_AUTHENTICATION)/;

function postgresKind(err: unknown): StorageErrorKind | undefined {
  const { code, errno } = (err ?? {}) as { code?: unknown; errno?: unknown };
  if (typeof code !== "string" || !code.startsWith("ERR_POSTGRES_")) return undefined;
  if (code === "ERR_POSTGRES_SERVER_ERROR") return typeof errno === "string" ? KIND_BY_SQLSTATE.find(([p]) => errno.startsWith(p))?.[1] : undefined;
  if (GONE.test(code)) return "gone";
  // A COMMIT answered with a rollback, a query cancelled: nothing was stored, try again.
  if (code === "ERR_POSTGRES_COMMIT_ROLLED_BACK" || code === "ERR_POSTGRES_QUERY_CANCELLED") return "busy";
  return undefined;
}

/**
 * Storage trouble: ours (StorageError), SQLite saying the file is locked, full,
 * read-only, failing or corrupt, or PostgreSQL unreachable, locked, full or read-only.
 * Anything else thrown while serving a call is a bug (a TypeError, a RangeError
 * "Invalid Date", a constraint our own SQL broke), which a retry would only meet again.
 */
export function isStorageFailure(err: unknown): boolean {
  if (err instanceof StorageError) return true;
  if (postgresKind(err) !== undefined) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && kindOf(code) !== undefined;
}

/** A bug met while serving an admin call: answered 500 `internal_error`, never the 503 that says "retry". */
export class InternalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InternalError";
  }
}
