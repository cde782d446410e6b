/** Signed ~1.3 KB text-message webhooks, each with its own wamid and signature. */
import { hubSignature } from "../src/ingest/signature";
import { textMessage } from "../test/support/webhooks";

export function textMessageBody(n: number): string {
  const wamid = `wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQz${n.toString(36).toUpperCase().padStart(12, "0")}A=`;
  const text =
    "Hello! I would like to know whether the blue jacket from your autumn collection comes in another " +
    "colour, and whether you ship to Lisbon. Also: can I return it within thirty days if it does not fit? " +
    `Thanks a lot — Sheena 😀. Order reference #${n}. ` + "x".repeat(380);
  return textMessage(wamid, text);
}

export function signedRequest(host: string, path: string, body: string, secret: string): Uint8Array {
  const bytes = Buffer.from(body);
  const head =
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: facebookexternalua\r\n` +
    `Content-Type: application/json\r\nX-Hub-Signature-256: ${hubSignature(bytes, secret)}\r\n` +
    `Content-Length: ${bytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), bytes]);
}

const META = { display_phone_number: "15550783881", phone_number_id: "106540352242922" };

/** The pipeline bench's mix, one event each: text messages, delivered and read statuses, template quality updates. */
export function mixedBody(i: number): string {
  const change = (field: string, value: unknown) => JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: "102290129340398", time: 1751247548, changes: [{ field, value }] }] });
  const ts = String(1750000000 + i);
  switch (i % 4) {
    case 0:
      return change("messages", { messaging_product: "whatsapp", metadata: META, contacts: [{ profile: { name: "Sheena" }, wa_id: "16505551234" }], messages: [{ from: "16505551234", id: `wamid.in.${i}`, timestamp: ts, type: "text", text: { body: `Hello ${i}, does it come in blue? 😀` } }] });
    case 1:
      return change("messages", { messaging_product: "whatsapp", metadata: META, statuses: [{ id: `wamid.out.${i}`, status: "delivered", timestamp: ts, recipient_id: "16505551234", pricing: { billable: true, pricing_model: "PMP", type: "regular", category: "utility" } }] });
    case 2:
      return change("messages", { messaging_product: "whatsapp", metadata: META, statuses: [{ id: `wamid.out.${i - 1}`, status: "read", timestamp: ts, recipient_id: "16505551234" }] });
    default:
      return change("message_template_quality_update", { previous_quality_score: "GREEN", new_quality_score: "YELLOW", message_template_id: 1689556908129832 + i, message_template_name: `tpl_${i}`, message_template_language: "en_US" });
  }
}
