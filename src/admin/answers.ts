/** Answers shared by the admin operations: { status, body } as http/admin.ts sends them. */
export interface AdminAnswer {
  status: number;
  body: unknown;
}

export const ok = (body: unknown): AdminAnswer => ({ status: 200, body });
export const badRequest = (reason: string): AdminAnswer => ({ status: 400, body: { error: "bad_request", reason } });
export const notFound = (reason: string): AdminAnswer => ({ status: 404, body: { error: "not_found", reason } });
export const conflict = (error: string, reason: string): AdminAnswer => ({ status: 409, body: { error, reason } });

/** A list page as every list answers it. */
export const page = (data: unknown[], nextCursor: string | null): AdminAnswer => ok({ data, next_cursor: nextCursor });
