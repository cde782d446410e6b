/** Builds signed webhook requests the way Meta sends them. */
import { hubSignature } from "../../src/ingest/signature";
import { SECRETS } from "./daemon";

export function textMessage(wamid: string, body = "Does it come in another color?"): string {
  return JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: "102290129340398",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" },
              contacts: [{ profile: { name: "Sheena Nelson" }, wa_id: "16505551234" }],
              messages: [{ from: "16505551234", id: wamid, timestamp: "1749416383", type: "text", text: { body } }],
            },
          },
        ],
      },
    ],
  });
}

/** The business number's metadata in every fixture. */
export const METADATA = { display_phone_number: "15550783881", phone_number_id: "106540352242922" };

/** A `messages` webhook carrying these statuses. */
export function statusesPayload(...items: Record<string, unknown>[]) {
  return { object: "whatsapp_business_account", entry: [{ id: "102290129340398", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: METADATA, statuses: items } }] }] };
}

export function signedPost(url: string, body: string | Uint8Array, secret = SECRETS[0]!, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "x-hub-signature-256": hubSignature(body, secret), ...headers },
  });
}

/**
 * Keeps `connections` loops of signed POSTs going until stop() (for crash tests).
 * `onOk` sees each 200 with the body it acknowledged; refused or reset requests are
 * simply not acknowledged, as Meta would see them.
 */
export function burst(url: string, connections: number, bodyOf: (n: number) => string, onOk: (res: Response, body: string) => Promise<void> | void) {
  let n = 0;
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      const body = bodyOf(n++);
      try {
        const res = await signedPost(url, body);
        if (res.status === 200) await onOk(res, body);
      } catch {
        // connection reset by the kill: not acknowledged
      }
    }
  };
  const loops = Array.from({ length: connections }, loop);
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}
