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
  return new StorageError(kindOf(code) ?? "other", message, code);
}

const kindOf = (code: string | undefined): StorageErrorKind | undefined => KIND_BY_CODE.find(([prefix]) => code?.startsWith(prefix))?.[1];

/**
 * Storage trouble: ours (StorageError), or SQLite saying the file is locked, full,
 * read-only, failing or corrupt. Anything else thrown while serving a call is a bug
 * (a TypeError, a RangeError "Invalid Date", a constraint our own SQL broke), which a
 * retry would only meet again.
 */
export function isStorageFailure(err: unknown): boolean {
  if (err instanceof StorageError) return true;
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
