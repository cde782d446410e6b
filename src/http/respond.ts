/** Small response helpers shared by the route files. */

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function problem(status: number, error: string, reason: string, headers: Record<string, string> = {}): Response {
  return json(status, { error, reason }, headers);
}
