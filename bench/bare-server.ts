/**
 * The baseline: a bare Bun.serve that checks the HMAC over the raw body and
 * answers 200, storing nothing. The daemon's ingestion is measured against it.
 */
import { verifyHubSignature } from "../src/ingest/signature";

const secrets = [new TextEncoder().encode(process.env.BENCH_SECRET ?? "bench-secret")];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const body = new Uint8Array(await req.arrayBuffer());
    const ok = verifyHubSignature(body, req.headers.get("x-hub-signature-256"), secrets).ok;
    return new Response(ok ? "ok" : "bad signature", { status: ok ? 200 : 401 });
  },
});
console.log(JSON.stringify({ listen: `127.0.0.1:${server.port}` }));
