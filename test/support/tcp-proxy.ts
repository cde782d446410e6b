/**
 * A TCP proxy in front of a real server (PostgreSQL) that can go silent: frozen, it
 * passes nothing either way and closes nothing, as a lost host or a partition that
 * drops packets does (no error, only silence); thawed, it delivers what it held, as
 * TCP's retransmissions would.
 */
import type { Socket, TCPSocketListener } from "bun";

interface Pair {
  client: Socket<Pair>;
  server: Socket<Pair> | null;
  /** Bytes held while frozen or while the server side connects: [to the server, to the client]. */
  held: [Uint8Array[], Uint8Array[]];
}

export class SilentProxy {
  #frozen = false;
  readonly #pairs = new Set<Pair>();
  readonly #listener: TCPSocketListener<Pair>;

  constructor(targetHost: string, targetPort: number) {
    const proxy = this;
    this.#listener = Bun.listen<Pair>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(client) {
          const pair: Pair = { client, server: null, held: [[], []] };
          client.data = pair;
          proxy.#pairs.add(pair);
          void Bun.connect<Pair>({
            hostname: targetHost,
            port: targetPort,
            data: pair,
            socket: {
              open(server) {
                pair.server = server;
                proxy.#flush(pair);
              },
              data(_server, bytes) {
                proxy.#pass(pair, 1, bytes);
              },
              close() {
                pair.client.end();
                proxy.#pairs.delete(pair);
              },
              error() {},
            },
          }).catch(() => client.end());
        },
        data(client, bytes) {
          proxy.#pass(client.data, 0, bytes);
        },
        close(client) {
          client.data.server?.end();
          proxy.#pairs.delete(client.data);
        },
        error() {},
      },
    });
  }

  get port(): number {
    return this.#listener.port;
  }

  freeze() {
    this.#frozen = true;
  }

  thaw() {
    this.#frozen = false;
    for (const pair of this.#pairs) this.#flush(pair);
  }

  stop() {
    for (const pair of this.#pairs) {
      pair.client.end();
      pair.server?.end();
    }
    this.#listener.stop(true);
  }

  #pass(pair: Pair, direction: 0 | 1, bytes: Uint8Array) {
    pair.held[direction].push(new Uint8Array(bytes));
    this.#flush(pair);
  }

  #flush(pair: Pair) {
    if (this.#frozen || !pair.server) return;
    for (const bytes of pair.held[0].splice(0)) pair.server.write(bytes);
    for (const bytes of pair.held[1].splice(0)) pair.client.write(bytes);
  }
}
