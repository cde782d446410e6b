/**
 * The webhook endpoint Meta calls: GET for the verify handshake, POST for events.
 *
 * POST answers exactly 200 only after the raw body is committed to the inbox.
 * Every other answer is deliberate: 401/413 are the sender's fault (Meta retries
 * them too, so they are logged loudly), 503 is ours and Meta's retry will succeed.
 */
import { Elysia } from "elysia";
import { rateLimited } from "../util/log-budget";
import { RETRY_AFTER_SECONDS } from "../config/defaults";
import { readBoundedBody } from "../ingest/body";
import type { InflightBudget, InflightLease } from "../ingest/inflight";
import { checkHandshake } from "../ingest/handshake";
import type { Inbox } from "../ingest/inbox";
import { SIGNATURE_REASONS, verifyHubSignature } from "../ingest/signature";
import { StorageError } from "../store/errors";
import type { Clock } from "../util/clock";
import type { Logger } from "../util/log";
import { countChanges, WebhookPayload } from "../whatsapp/payload";
import { z } from "zod";
import { metrics } from "../metrics/catalogue";
import { operation } from "./openapi";
import type { ClientOf } from "./client-address";
import type { TrustTest } from "../util/cidr";
import { json, problem } from "./respond";
import type { RequestTracker } from "./stop";
import { queryOf } from "./url";

export interface WebhookDeps {
  path: string;
  verifyToken: string;
  appSecrets: readonly Uint8Array[];
  maxBodyBytes: number;
  /** Whole-body deadline (server.body_timeout). */
  bodyTimeoutMs: number;
  /** Request bytes all requests may hold at once (server.max_inflight_bytes). */
  inflight: InflightBudget;
  /** Counts requests being answered, so shutdown never cuts one whose body is complete. */
  requests: RequestTracker;
  inbox: Inbox;
  /** Peers allowed to name the client in X-Forwarded-For (server.trusted_proxies). */
  trustedProxy: TrustTest;
  clock: Clock;
  log: Logger;
}

/** Each way a body read can fail: status, error code, and the reason said to the client and the log. */
const BODY_FAILURES = {
  too_large: { status: 413, error: "payload_too_large", reason: (d: WebhookDeps) => `body exceeds server.max_body_bytes (${d.maxBodyBytes} bytes)` },
  bad_length: { status: 400, error: "bad_request", reason: () => "Content-Length is not a single number (given twice, or not digits)" },
  aborted: { status: 400, error: "bad_request", reason: () => "request body ended before it was complete" },
  busy: { status: 503, error: "server_busy", reason: (d: WebhookDeps) => `request bodies in flight would exceed server.max_inflight_bytes (${d.inflight.limitBytes} bytes)` },
  timeout: { status: 408, error: "request_timeout", reason: (d: WebhookDeps) => `body not received within server.body_timeout (${d.bodyTimeoutMs} ms)` },
} as const;

/** A refused POST's status → its outcome in wa_webhook_requests_total. */
const OUTCOMES: Record<number, string> = { 400: "bad_request", 401: "bad_signature", 408: "timeout", 413: "too_large", 415: "bad_request", 503: "unavailable" };

const STORAGE_REASONS: Record<StorageError["kind"], string> = {
  busy: "database write lock held too long",
  full: "disk full",
  readonly: "database is read-only",
  io: "disk I/O error",
  corrupt: "database file is damaged",
  // SQLite: the file was deleted or replaced while open; PostgreSQL: the server cannot be reached.
  gone: "database unreachable, or its file deleted or replaced while open",
  other: "storage error",
};

const HandshakeQuery = z.object({
  "hub.mode": z.literal("subscribe"),
  "hub.verify_token": z.string().describe("whatsapp.verify_token"),
  "hub.challenge": z.string().describe("Echoed back as the body"),
});
const Stored = z.strictObject({ status: z.literal("stored"), id: z.int().describe("The inbox row") });

const HANDSHAKE_DOC = operation({
  tag: "webhook",
  public: true,
  summary: "Meta's verify handshake: answers hub.challenge as text/plain",
  query: HandshakeQuery,
  ok: "text",
  errors: [400, 403],
});
const POST_DOC = operation({
  tag: "webhook",
  public: true,
  summary: "Meta's events: stored before the 200",
  description:
    "200 only once the body is committed; 503 (Retry-After) when storage cannot take it, so Meta retries.",
  headers: { "X-Hub-Signature-256": { description: "sha256=<hex HMAC-SHA256 of the raw body with the app secret>", pattern: "^sha256=[0-9a-f]{64}$" } },
  body: WebhookPayload,
  ok: Stored,
  errors: [
    [400, "Not a webhook request this endpoint takes (the reason says why)"],
    [401, "X-Hub-Signature-256 missing, malformed, or not matching any configured app secret"],
    [408, "The body did not arrive within server.body_timeout"],
    [413, "The body is larger than server.max_body_bytes"],
    [503, "Not stored (storage cannot take it, or too many bodies in flight): Meta retries; Retry-After says when"],
  ],
});

type Server = { requestIP(req: Request): { address: string } | null; timeout?(req: Request, seconds: number): void } | null;

// Every stored webhook counts in these: their series' keys are worked out once, here.
const countStored = metrics.counter("wa_webhook_requests_total", { outcome: "stored" });
const observeLatency = metrics.histogram("wa_ingest_latency_seconds");

/** The start of what a signature looks like: a scheme of letters and digits, `=`, hex digits. */
const SIGNATURE_SHAPE = /^[a-z0-9]{1,10}=[0-9a-f]*$/i;

export function webhookRoutes(deps: WebhookDeps, remoteOf: ClientOf) {
  const reject = (request: Request, server: Server, response: Response, fields: Record<string, unknown>) => {
    rateLimited(deps.log).warn(`${response.status} ${fields.reason ?? ""}`.trim(), "webhook rejected", {
      method: request.method,
      status: response.status,
      remote: remoteOf(request, server),
      ...fields,
    });
    if (request.method === "POST") metrics.inc("wa_webhook_requests_total", { outcome: OUTCOMES[response.status] ?? "bad_request" });
    return response;
  };

  return new Elysia({ name: "webhook" })
    .get(deps.path, ({ request, server }) => {
      const result = checkHandshake(queryOf(request.url), deps.verifyToken);
      if (result.status === 200) {
        deps.log.info("webhook verified", { remote: remoteOf(request, server) });
        // Text, never sniffed as HTML: the challenge is whatever the caller (with the verify token) sent.
        return new Response(result.challenge, { headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" } });
      }
      return reject(request, server, new Response(result.reason, { status: result.status }), { reason: result.reason });
    }, { detail: HANDSHAKE_DOC })
    .post(
      deps.path,
      async ({ request, server }) => {
        const lease = deps.inflight.lease();
        try {
          return await receive(request, server, lease);
        } finally {
          lease.release();
        }
      },
      // Elysia must not touch the body: the signature is over the exact bytes.
      { parse: "none", detail: POST_DOC },
    );

  async function receive(request: Request, server: Server, lease: InflightLease): Promise<Response> {
    // Meta sends bodies as they are signed, uncompressed: a compressed one (a proxy's doing)
    // would be stored as bytes no reader can parse, and marked dead. Said at once instead, unread.
    const encoding = request.headers.get("content-encoding")?.trim().toLowerCase();
    if (encoding && encoding !== "identity") {
      const reason = `content-encoding ${JSON.stringify(encoding.slice(0, 40))} is not accepted: webhook bodies come uncompressed`;
      return reject(request, server, problem(415, "unsupported_content_encoding", reason, { connection: "close" }), { reason });
    }
    const receivedAt = deps.clock.now();
    const started = performance.now();
    // Bun's idle timeout runs on while a body arrives, however steadily: a slow upload
    // would be cut at server.idle_timeout with no answer. server.body_timeout decides
    // instead (408), so the connection may live a second longer than it.
    server?.timeout?.(request, Math.ceil(deps.bodyTimeoutMs / 1000) + 1);
    const body = await readBoundedBody(request, { maxBytes: deps.maxBodyBytes, timeoutMs: deps.bodyTimeoutMs, lease });
    if (!body.ok) {
      const failure = BODY_FAILURES[body.reason];
      const reason = failure.reason(deps);
      // The body may still be arriving: close the connection rather than read it.
      const headers: Record<string, string> = { connection: "close" };
      if (failure.status === 503) headers["retry-after"] = String(RETRY_AFTER_SECONDS);
      return reject(request, server, problem(failure.status, failure.error, reason, headers), { reason });
    }
    return deps.requests.answer(() => store(request, server, body.bytes, receivedAt, started));
  }

  async function store(request: Request, server: Server, bytes: Uint8Array, receivedAt: number, started: number): Promise<Response> {
    const signature = request.headers.get("x-hub-signature-256");
    const verdict = verifyHubSignature(bytes, signature, deps.appSecrets);
    if (!verdict.ok) {
      const reason = SIGNATURE_REASONS[verdict.reason];
      return reject(request, server, problem(401, "invalid_signature", reason), {
        reason,
        // A prefix is enough to correlate with Meta's side; the full value stays out of logs.
        // Only what a signature looks like is logged: a header can carry anything (a phone number).
        signature_prefix: signature === null ? null : SIGNATURE_SHAPE.test(signature) ? signature.slice(0, 15) : `(not a signature, ${signature.length} characters)`,
      });
    }
    try {
      const remote = remoteOf(request, server);
      const id = await deps.inbox.append({
        body: bytes,
        signature: signature!,
        userAgent: request.headers.get("user-agent"),
        remoteAddr: remote,
        forwardedFor: request.headers.get("x-forwarded-for"),
        receivedAt,
      });
      if (deps.log.enabled("debug")) deps.log.debug("stored", { inbox_id: id, bytes: bytes.byteLength, remote, changes: countChanges(bytes) });
      countStored();
      observeLatency((performance.now() - started) / 1000);
      return json(200, { status: "stored", id });
    } catch (err) {
      const kind = err instanceof StorageError ? err.kind : "other";
      const reason = STORAGE_REASONS[kind];
      return reject(
        request,
        server,
        problem(503, "storage_unavailable", reason, { "retry-after": String(RETRY_AFTER_SECONDS) }),
        { reason, storage_error: kind },
      );
    }
  }
}
