import { afterEach } from "bun:test";
/** A local HTTP receiver standing in for the user's hook, over real loopback HTTP. */
export interface Received {
  headers: Record<string, string>;
  body: string;
}

export class Sink {
  received: Received[] = [];
  /** Decides each answer; default 200. */
  respond: (r: Received) => Response | Promise<Response> = () => new Response("ok");
  /** Requests being answered right now, and the most seen at once. */
  inFlight = 0;
  maxInFlight = 0;
  server: ReturnType<typeof Bun.serve> | null = null;
  port = 0;

  start(port = 0) {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port,
      fetch: async (req) => {
        const r = { headers: Object.fromEntries(req.headers), body: await req.text() };
        this.received.push(r);
        this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
        try {
          return await this.respond(r);
        } finally {
          this.inFlight--;
        }
      },
    });
    this.port = this.server.port!;
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  stop() {
    this.server?.stop(true);
    this.server = null;
  }
}

/** A port nothing listens on (bound then released). */
export function closedPort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

/** Sinks started by the returned function are stopped after each test of the file that calls this. */
export function sinksStoppedAfterEach(): () => Sink {
  const sinks: Sink[] = [];
  afterEach(() => sinks.splice(0).forEach((s) => s.stop()));
  return () => {
    const s = new Sink().start();
    sinks.push(s);
    return s;
  };
}
