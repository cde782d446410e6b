/** JSON Schema of the event envelope, derived from the zod schema (docs/event-envelope.schema.json). */
import { z } from "zod";
import { EventEnvelope } from "./envelope";

export function envelopeJsonSchema(): unknown {
  return { ...z.toJSONSchema(EventEnvelope), title: "wa-webhookd event envelope", $id: "https://wa-webhookd/event-envelope.schema.json" };
}
