/**
 * Each route's OpenAPI operation, built from the zod schemas that validate its input
 * and describe its answer (zod's own JSON Schema export: the swagger plugin would
 * serialize a zod object raw, which yields an empty schema). Routes pass the result
 * as Elysia's `detail`; @elysiajs/swagger puts it in /docs/json as is.
 */
import type { DocumentDecoration } from "elysia";
import { z } from "zod";
import { Problem } from "../admin/responses";

type Json = Record<string, unknown>;
type Status = 200 | 201 | 400 | 401 | 403 | 404 | 408 | 409 | 413 | 500 | 503;
type ProblemStatus = Exclude<Status, 200 | 201>;

export interface OperationSpec {
  summary: string;
  description?: string;
  tag: "events" | "queues" | "contacts" | "reports" | "fallback" | "jobs" | "webhook" | "health";
  /** Path parameters: name → description. */
  path?: Record<string, string>;
  query?: z.ZodObject;
  /** Request headers: name → description and pattern (required unless said otherwise). */
  headers?: Record<string, { description: string; pattern: string; required?: boolean }>;
  body?: z.ZodType;
  bodyExample?: unknown;
  /** The 200 answer's JSON schema, "text" for a text/plain answer, or Server-Sent Events whose messages' data has the given schema. */
  ok: z.ZodType | "text" | { eventStream: z.ZodType };
  okExample?: unknown;
  /** 201 when the operation creates (POST /v1/outbound answers 201 or 200). */
  created?: boolean;
  /** Answers besides the 200 (and the 401, 500 and 503 every admin route has), each with what it means here if not the usual. */
  errors?: Array<ProblemStatus | [ProblemStatus, string] | [ProblemStatus, string, z.ZodType]>;
  /** Admin routes need the bearer token; the webhook and health do not. */
  public?: boolean;
}

export const SECURITY_SCHEME = "adminToken";

/** zod → an OpenAPI 3.0 schema object. `io` picks a request's input shape or an answer's output shape. */
export function schemaOf(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { target: "openapi-3.0", io, unrepresentable: "any" }) as Json;
  return json;
}

const jsonContent = (schema: z.ZodType, io: "input" | "output", example?: unknown) => ({
  "application/json": { schema: schemaOf(schema, io), ...(example === undefined ? {} : { example }) },
});

const ANSWERS: Record<ProblemStatus, string> = {
  400: "A parameter or body field is wrong; the reason names it",
  403: "Refused: the reason says why",
  401: "No bearer token, or the wrong one",
  404: "No such item",
  408: "The body did not arrive in time",
  409: "The item is not in a state this applies to",
  413: "The body is larger than allowed",
  500: "A bug (`internal_error`, logged at error with its stack); retrying will not help",
  503: "Storage is unavailable; retry",
};

export function operation(spec: OperationSpec): DocumentDecoration {
  // The answer's body is a Problem unless the operation names its own schema.
  const problems = new Map<ProblemStatus, { description: string; body: z.ZodType }>();
  for (const e of [...(spec.errors ?? []), ...(spec.public ? [] : ([401, 500, 503] as const))]) {
    const [status, description, body] = Array.isArray(e) ? e : [e, ANSWERS[e]];
    if (!problems.has(status)) problems.set(status, { description, body: body ?? Problem });
  }
  const ok =
    spec.ok === "text"
      ? { "text/plain": { schema: { type: "string" } } }
      : "eventStream" in spec.ok
        ? // OpenAPI 3.0 has no schema for a stream's items (3.2's itemSchema): the schema is each message's data.
          { "text/event-stream": { schema: schemaOf(spec.ok.eventStream, "output") } }
        : jsonContent(spec.ok, "output", spec.okExample);
  const responses: Json = {
    200: { description: "OK", content: ok },
    ...(spec.created ? { 201: { description: "Created", content: ok } } : {}),
    ...Object.fromEntries([...problems].map(([s, { description, body }]) => [s, { description, content: jsonContent(body, "output") }])),
  };
  return {
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    parameters: [...pathParameters(spec.path ?? {}), ...headerParameters(spec.headers ?? {}), ...(spec.query ? queryParameters(spec.query) : [])],
    ...(spec.body ? { requestBody: { required: true, content: jsonContent(spec.body, "input", spec.bodyExample) } } : {}),
    responses,
    ...(spec.public ? { security: [] } : { security: [{ [SECURITY_SCHEME]: [] }] }),
  } as DocumentDecoration;
}

function pathParameters(names: Record<string, string>) {
  return Object.entries(names).map(([name, description]) => ({ name, in: "path", required: true, description, schema: { type: "string" } }));
}

function headerParameters(headers: NonNullable<OperationSpec["headers"]>) {
  return Object.entries(headers).map(([name, h]) => ({ name, in: "header", required: h.required ?? true, description: h.description, schema: { type: "string", pattern: h.pattern } }));
}

/** One parameter per property of the query's schema, with its description lifted to the parameter. */
function queryParameters(query: z.ZodObject) {
  const json = schemaOf(query, "input") as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: "query", required: json.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: rest };
  });
}
