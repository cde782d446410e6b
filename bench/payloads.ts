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
