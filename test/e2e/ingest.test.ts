/** The compiled binary over real HTTP on loopback: handshake, signatures, limits, bursts, lifecycle. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { join } from "node:path";
import { hubSignature } from "../../src/ingest/signature";
import { LATEST_VERSION } from "../../src/store/migrations";
import { readInbox, requireBinary, SECRETS, startDaemon, tempDir, VERIFY_TOKEN, waitFor, writeConfig, type Daemon } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";

let daemon: Daemon;
let dir: string;
const db = () => join(dir, "data/wa.db");
/** A webhook's row, once the writer thread has indexed it (moments after its 200: the inbox log holds it first). */
async function rowOf(id: number) {
  await waitFor(() => readInbox(db()).some((r) => r.id === id));
  return readInbox(db()).find((r) => r.id === id)!;
}
/** The inbox's rows once indexing has caught up with what was acknowledged (the count stops moving). */
async function indexedRows(): Promise<number> {
  for (let last = -1; ; await Bun.sleep(100)) {
    const n = readInbox(db()).length;
    if (n === last) return n;
    last = n;
  }
}

beforeAll(async () => {
  requireBinary();
  dir = tempDir();
  daemon = await startDaemon(writeConfig(dir, { maxBodyBytes: 65536 }));
});
afterAll(async () => {
  await daemon?.stop();
});

describe("GET handshake", () => {
  const scenarios: [query: string, status: number, body?: string][] = [
    [`hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`, 200, "1158201444"],
    [`hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444`, 403],
    [`hub.mode=subscribe&hub.challenge=1158201444`, 400],
  ];
  for (const [query, status, body] of scenarios) {
    test(`${query} → ${status}`, async () => {
      const res = await fetch(`${daemon.url}/webhook?${query}`);
      expect(res.status).toBe(status);
      if (body !== undefined) {
        expect(res.headers.get("content-type")).toStartWith("text/plain");
        expect(await res.text()).toBe(body);
      }
    });
  }
});

describe("POST signatures", () => {
  test("good signature → exactly 200 and the raw bytes stored", async () => {
    const body = textMessage("wamid.good", "caf\u00e9 \u{1F600} \u00bfqu\u00e9?");
    const res = await signedPost(`${daemon.url}/webhook`, body, SECRETS[0], { "user-agent": "facebookexternalua" });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: number };
    const row = await rowOf(id);
    expect(Buffer.from(row.body).equals(Buffer.from(body))).toBe(true);
    expect(row.signature).toBe(hubSignature(body, SECRETS[0]!));
    expect(row.user_agent).toBe("facebookexternalua");
    expect(row.remote_addr).toBe("127.0.0.1");
    expect(row.parseable).toBe(1);
  });

  test("second configured secret is accepted", async () => {
    const res = await signedPost(`${daemon.url}/webhook`, textMessage("wamid.second"), SECRETS[1]);
    expect(res.status).toBe(200);
  });

  const rejected: [name: string, header: string | undefined, reason: RegExp][] = [
    ["missing signature", undefined, /missing/],
    ["malformed signature", "sha256=abc", /64 hex digits/],
    ["wrong signature", "sha256=" + "0".repeat(64), /does not match/],
    ["signed with another secret", hubSignature(textMessage("wamid.x"), "not-ours"), /does not match/],
  ];
  for (const [name, header, reason] of rejected) {
    test(`${name} → 401 with a reason, nothing stored, one log line`, async () => {
      const before = await indexedRows();
      const res = await fetch(`${daemon.url}/webhook`, {
        method: "POST",
        body: textMessage("wamid.x"),
        headers: header ? { "x-hub-signature-256": header } : {},
      });
      expect(res.status).toBe(401);
      const json = (await res.json()) as { error: string; reason: string };
      expect(json.error).toBe("invalid_signature");
      expect(json.reason).toMatch(reason);
      expect(await indexedRows()).toBe(before);
      await Bun.sleep(20);
      const line = daemon.lines.findLast((l) => l.includes('"status":401'))!;
      expect(line).toMatch(reason);
      for (const secret of SECRETS) expect(daemon.lines.join("\n")).not.toContain(secret);
      if (header && header.length > 20) expect(line).not.toContain(header);
    });
  }
});

describe("POST bodies", () => {
  test("signed body that is not JSON → 200, stored, flagged unparseable", async () => {
    const res = await signedPost(`${daemon.url}/webhook`, "this is {not json");
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: number };
    expect((await rowOf(id)).parseable).toBe(0);
  });

  test("a compressed body (Content-Encoding: gzip, signed over the compressed bytes) → 415, not stored; identity is as none", async () => {
    const gz = Bun.gzipSync(new TextEncoder().encode(textMessage("wamid.GZIP1")));
    const res = await signedPost(`${daemon.url}/webhook`, gz, SECRETS[0], { "content-encoding": "gzip" });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: "unsupported_content_encoding" });
    const plain = await signedPost(`${daemon.url}/webhook`, textMessage("wamid.GZIP2"), SECRETS[0], { "content-encoding": "identity" });
    expect(plain.status).toBe(200);
    const { id } = (await plain.json()) as { id: number };
    await rowOf(id);
    // The compressed body was never stored.
    expect(readInbox(db()).some((r) => r.body[0] === 0x1f && r.body[1] === 0x8b)).toBe(false);
    expect(daemon.lines.some((l) => l.includes("is not accepted: webhook bodies come uncompressed"))).toBe(true);
  });

  test("oversized body with Content-Length → 413 without reading it", async () => {
    const body = "x".repeat(65537);
    const res = await signedPost(`${daemon.url}/webhook`, body);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { reason: string }).reason).toContain("server.max_body_bytes");
  });

  test("oversized chunked body (no Content-Length) → 413 once the limit is crossed", async () => {
    const chunk = new Uint8Array(16 * 1024).fill(120);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Far more than the limit: the server must answer without waiting for all of it.
        if (sent >= 64 * 1024 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${daemon.url}/webhook`, {
      method: "POST",
      body: stream,
      headers: { "x-hub-signature-256": "sha256=" + "0".repeat(64) },
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  test("body exactly at the limit is accepted", async () => {
    const body = JSON.stringify({ pad: "x".repeat(65536 - 10) });
    expect(body.length).toBe(65536);
    expect((await signedPost(`${daemon.url}/webhook`, body)).status).toBe(200);
  });
});

test("1,000 concurrent signed POSTs → 1,000 rows, every 200 accounted for", async () => {
  const before = await indexedRows();
  const bodies = Array.from({ length: 1000 }, (_, i) => textMessage(`wamid.burst.${i}`));
  const responses = await Promise.all(bodies.map((b) => signedPost(`${daemon.url}/webhook`, b)));
  expect(responses.map((r) => r.status)).toEqual(bodies.map(() => 200));
  const ids = await Promise.all(responses.map(async (r) => ((await r.json()) as { id: number }).id));
  await waitFor(() => readInbox(db()).length === before + 1000);
  const rows = new Map(readInbox(db()).map((r) => [r.id, new TextDecoder().decode(r.body)]));
  ids.forEach((id, i) => expect(rows.get(id)).toBe(bodies[i]!));
}, 30_000);

describe("health", () => {
  test("/healthz and /readyz answer JSON without auth", async () => {
    const live = await fetch(`${daemon.url}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: "ok" });
    const ready = await fetch(`${daemon.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
  });

  test("a hundred concurrent /readyz share probes and all answer ready", async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, () => fetch(`${daemon.url}/readyz`).then(async (r) => [r.status, await r.json()])));
    expect(answers).toEqual(Array.from({ length: 100 }, () => [200, { status: "ready" }]));
  });

  test("unknown routes are a JSON 404", async () => {
    const res = await fetch(`${daemon.url}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe("not_found");
  });
});

test("startup log names journal mode and synchronous", () => {
  const listening = JSON.parse(daemon.lines.find((l) => l.includes('"msg":"listening"'))!);
  expect(listening).toMatchObject({ journal_mode: "wal", synchronous: "full", schema_version: LATEST_VERSION });
});

test("SIGTERM lets an in-flight request finish, closes cleanly, exits 0", async () => {
  const d = tempDir();
  const own = await startDaemon(writeConfig(d));
  // A request whose body is still arriving when the signal lands.
  const body = textMessage("wamid.inflight");
  const signature = hubSignature(body, SECRETS[0]!);
  const socket = connect(own.port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  let response = "";
  socket.on("data", (d) => (response += d.toString()));
  socket.write(
    `POST /webhook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: ${signature}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
      body.slice(0, 10),
  );
  await Bun.sleep(100);
  own.proc.kill("SIGTERM");
  await Bun.sleep(100);
  socket.write(body.slice(10));
  const code = await own.proc.exited;
  expect(code).toBe(0);
  expect(response).toStartWith("HTTP/1.1 200");
  expect(readInbox(join(d, "data/wa.db")).map((r) => new TextDecoder().decode(r.body))).toEqual([body]);
  expect(own.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  socket.destroy();
});
