/**
 * The console's one door to the daemon: /v1 on the same origin, the admin token as a
 * bearer. The token lives in sessionStorage (this tab, this session) and nowhere else;
 * nothing else personal is kept in the browser.
 */
const KEY = "wa-webhookd.admin-token";

export const session = {
  token: () => sessionStorage.getItem(KEY),
  set: (token: string) => sessionStorage.setItem(KEY, token),
  clear: () => sessionStorage.removeItem(KEY),
};

/** The daemon refused the token: the console asks for it again. */
export class Unauthorized extends Error {}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const headers = (): Record<string, string> => ({ authorization: `Bearer ${session.token() ?? ""}` });

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`/v1${path}`, {
    method: init.method ?? "GET",
    headers: { ...headers(), ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (res.status === 401) {
    session.clear();
    throw new Unauthorized("The daemon refused this token.");
  }
  const body = (await res.json().catch(() => null)) as (T & { reason?: string }) | null;
  if (!res.ok) throw new ApiError(res.status, body?.reason ?? `HTTP ${res.status}`);
  return body as T;
}

/** A query string from the parameters that are set. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
