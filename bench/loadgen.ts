/**
 * Closed-loop HTTP/1.1 load generator over raw keep-alive TCP sockets (like wrk):
 * each connection sends one request, waits for the whole response, sends the next
 * (with `rate`, no sooner than a fixed schedule allows: a steady open-loop load).
 * Requests are built before the clock starts so generating them costs nothing
 * during the measurement.
 */
export interface LoadResult {
  requests: number;
  ok200: number;
  non2xx: number;
  errors: number;
  seconds: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  maxms: number;
  /** Response bodies of the 200s, for checking what the server says it stored. */
  okBodies: string[];
}

export interface LoadOptions {
  host: string;
  port: number;
  connections: number;
  durationMs: number;
  requests: Uint8Array[]; // complete HTTP requests; used in order, each at most once
  keepBodies?: boolean;
  /** Open loop: at most this many requests per second in all (request k is not sent before k / rate s). */
  rate?: number;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const latencies = new Float64Array(opts.requests.length);
  let next = 0;
  let done = 0;
  let ok200 = 0;
  let non2xx = 0;
  let errors = 0;
  const okBodies: string[] = [];
  const start = performance.now();
  const deadline = start + opts.durationMs;
  const decoder = new TextDecoder();

  const runConnection = () =>
    new Promise<void>((resolve) => {
      let buffered = Buffer.alloc(0);
      let sentAt = 0;
      let finished = false;
      const finish = (socket?: { end(): void }) => {
        if (finished) return;
        finished = true;
        socket?.end();
        resolve();
      };
      const send = (socket: { write(b: Uint8Array): number; end(): void }) => {
        if (performance.now() >= deadline || next >= opts.requests.length) return finish(socket);
        if (opts.rate) {
          const wait = start + (next * 1000) / opts.rate - performance.now();
          if (wait > 1) return void setTimeout(() => send(socket), wait);
        }
        const req = opts.requests[next++]!;
        sentAt = performance.now();
        socket.write(req);
      };
      Bun.connect({
        hostname: opts.host,
        port: opts.port,
        socket: {
          open: send,
          data(socket, chunk) {
            buffered = buffered.length ? Buffer.concat([buffered, chunk]) : Buffer.from(chunk);
            for (;;) {
              const headerEnd = buffered.indexOf("\r\n\r\n");
              if (headerEnd < 0) return;
              const head = buffered.subarray(0, headerEnd).toString("latin1");
              const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
              if (buffered.length < headerEnd + 4 + length) return;
              const status = Number(head.slice(9, 12));
              const body = buffered.subarray(headerEnd + 4, headerEnd + 4 + length);
              buffered = buffered.subarray(headerEnd + 4 + length);
              latencies[done++] = performance.now() - sentAt;
              if (status === 200) {
                ok200++;
                if (opts.keepBodies) okBodies.push(decoder.decode(body));
              } else if (status < 200 || status >= 300) non2xx++;
              send(socket);
            }
          },
          error() {
            errors++;
            finish();
          },
          close: () => finish(),
          connectError() {
            errors++;
            finish();
          },
        },
      }).catch(() => {
        errors++;
        resolve();
      });
    });

  await Promise.all(Array.from({ length: opts.connections }, runConnection));
  const seconds = (performance.now() - start) / 1000;
  const sorted = latencies.subarray(0, done).sort();
  const pct = (p: number) => (done ? sorted[Math.min(done - 1, Math.floor((p / 100) * done))]! : 0);
  return {
    requests: done,
    ok200,
    non2xx,
    errors,
    seconds,
    rps: done / seconds,
    p50ms: pct(50),
    p99ms: pct(99),
    maxms: done ? sorted[done - 1]! : 0,
    okBodies,
  };
}
