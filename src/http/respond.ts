/** Small response helpers shared by the route files. */

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function problem(status: number, error: string, reason: string, headers: Record<string, string> = {}): Response {
  return json(status, { error, reason: shortReason(reason) }, headers);
}

/** A reason may quote what was sent (a mistyped type glob): never more than this of it, in an answer or a log line. */
const REASON_MAX = 300;

export const shortReason = (reason: string) => (reason.length > REASON_MAX ? `${reason.slice(0, REASON_MAX)}…` : reason);

/** An admin answer (personal data, or a path holding a number): no browser or proxy keeps a copy. */
export function notCached(response: Response): Response {
  response.headers.set("cache-control", "no-store");
  return response;
}
