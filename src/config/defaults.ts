/**
 * Named defaults, each with the reason for its value. The config schema and
 * config.example.toml use these; change them here, nowhere else.
 */

/** Loopback only: Caddy (or another proxy) terminates TLS in front of us. */
export const DEFAULT_LISTEN = "127.0.0.1:8080";
export const DEFAULT_WEBHOOK_PATH = "/webhook";

/** Meta documents payloads "up to 3 MB"; 4 MiB leaves room for escaping overhead. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Above this the config is almost certainly a typo; SQLite rows this large hurt everyone. */
export const MAX_MAX_BODY_BYTES = 64 * 1024 * 1024;

export const DEFAULT_DB_PATH = "data/wa-webhookd.db";

/**
 * How long a batch of webhooks may wait on a store that reports its lock busy before
 * we answer 503 (ingest/inbox.ts). The inbox log never does; SQLite's lock delays only
 * indexing. Meta's own timeout is undocumented (guides quote 5–20 s): well under that.
 */
export const DEFAULT_LOCK_TIMEOUT = "3s";
/** Connections per instance to the PostgreSQL engine. */
export const DEFAULT_PG_POOL = 16;

/**
 * busy_timeout of the writer thread's connection. Kept short so that the thread goes on
 * answering probes and admin calls while a lock is held elsewhere; readiness retries a
 * busy probe (writer/client.ts), the worker and dispatch loops retry a busy pass (worker/loop.ts).
 */
export const WRITER_BUSY_TIMEOUT_MS = 50;
/** busy_timeout for connections off the request path (checkpointer, worker). */
export const BACKGROUND_BUSY_TIMEOUT_MS = 5_000;

/** Group commit: rows and bytes one transaction may carry before it is split. */
export const MAX_BATCH_ROWS = 2_000;
export const MAX_BATCH_BYTES = 32 * 1024 * 1024;

/** WAL housekeeping runs off the request thread (see store/checkpointer.ts). */
export const CHECKPOINT_INTERVAL_MS = 1_000;
/** A WAL bigger than this after a passive checkpoint gets a RESTART checkpoint. */
export const WAL_RESTART_BYTES = 16 * 1024 * 1024;
/** Size the WAL file is cut back to whenever SQLite resets it. */
export const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** Seconds Meta is told to wait after a 503 (advisory; Meta uses its own schedule). */
export const RETRY_AFTER_SECONDS = 5;

/** SIGTERM: how long in-flight requests and their commits get before we force the exit. */
export const DEFAULT_SHUTDOWN_TIMEOUT = "10s";

/**
 * Proxies whose X-Forwarded-For is believed: loopback, where Caddy runs beside us.
 * Anything else could write the header itself and pose as any address.
 */
export const LOOPBACK_CIDRS = ["127.0.0.0/8", "::1/128"] as const;
export const DEFAULT_TRUSTED_PROXIES = LOOPBACK_CIDRS;

/** Per-request info lines would be 30k lines/s at peak; a summary this often instead. */
export const DEFAULT_TRAFFIC_INTERVAL = "10s";

/**
 * Request bytes all requests in flight may hold before new ones get 503 (unread).
 * Bodies are buffered before their signature is checked, so this bounds what
 * unauthenticated clients can make us hold: 16 bodies of Meta's 4 MiB maximum.
 */
export const DEFAULT_MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;
/** A whole body must arrive within this; Meta's servers send one in milliseconds. */
export const DEFAULT_BODY_TIMEOUT = "20s";
/**
 * A request whose body goes silent this long is closed (Bun's idleTimeout; maximum 255 s).
 * Measured: Bun closes connections silent in their headers or between requests after
 * ~12 s on its own, whatever this is, once routes are registered.
 */
export const DEFAULT_IDLE_TIMEOUT = "10s";

/**
 * The writer connection's page cache. SQLite's default (2 MiB) turns every index probe
 * of a table with a million rows into page reads; measured on the sweep over 1,000,000
 * tracked messages: 1.3 s → 0.8 s (bench/RESULTS.md "Sweeper"). Bounded: at most this much.
 */
export const WRITER_CACHE_KIB = 8_192;

/** How many of the newest events an erasure reads for the business's display numbers (on nearly every event): never erased as a person. */
export const DISPLAY_NUMBERS_LOOKBACK = 1_000;
