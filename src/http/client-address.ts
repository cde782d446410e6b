/**
 * The client's address behind a reverse proxy. Only a trusted peer's
 * X-Forwarded-For is believed, and only up to the first hop we do not trust:
 * walking the list from the right, every trusted proxy is skipped, and the first
 * untrusted entry is the client (anything left of it could have been forged by it).
 */
import { addressBytes, type TrustTest } from "../util/cidr";

/**
 * The client address to log and store: the peer itself unless it is a trusted
 * proxy, else the right-most X-Forwarded-For entry that is not a trusted proxy
 * (or the left-most, when every hop is trusted).
 */
export function clientAddress(peer: string | null, forwardedFor: string | null, trusted: TrustTest): string | null {
  if (peer === null || forwardedFor === null || !trusted(peer)) return peer;
  const hops = forwardedFor
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (addressBytes(hop) === null) return peer; // garbage in the chain: believe only what we saw
    if (!trusted(hop)) return hop.replace(/^\[(.*)\]$/, "$1");
  }
  return hops[0] ?? peer;
}

/** What Bun tells of a request's connection (Elysia's `server`). */
export type PeerSource = { requestIP(req: Request): { address: string } | null } | null | undefined;

/** The client of a request, as `clientAddress` decides it with these trusted proxies. */
export type ClientOf = (request: Request, server: PeerSource) => string | null;

export const clientOf =
  (trusted: TrustTest): ClientOf =>
  (request, server) =>
    clientAddress(server?.requestIP(request)?.address ?? null, request.headers.get("x-forwarded-for"), trusted);
