/**
 * Storage failures, classified so callers can answer correctly: every kind here
 * means "not stored", which the webhook turns into a 503 (Meta retries), never a 4xx.
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
];

export function toStorageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const kind = KIND_BY_CODE.find(([prefix]) => code?.startsWith(prefix))?.[1] ?? "other";
  return new StorageError(kind, message, code);
}
