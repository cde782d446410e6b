/**
 * Realistic webhook payloads for `wa-webhookd send-test`, shaped like Meta's own
 * (../shared/reference, Meta's examples): one builder per kind, each with a fresh wamid,
 * so hooks, fallback and alerts can be tried without Meta.
 */
export interface SampleContext {
  wamid: string;
  /** The customer's wa_id (digits). */
  to: string;
  /** Unix seconds. */
  now: number;
  wabaId: string;
  phoneNumberId: string;
  displayNumber: string;
}

type Value = Record<string, unknown>;

const envelope = (c: SampleContext, field: string, value: Value) => ({
  object: "whatsapp_business_account",
  entry: [{ id: c.wabaId, ...(field === "messages" || field === "user_preferences" ? {} : { time: c.now }), changes: [{ field, value }] }],
});

const metadata = (c: SampleContext) => ({ display_phone_number: c.displayNumber, phone_number_id: c.phoneNumberId });

const inbound = (c: SampleContext, type: string, content: Value) =>
  envelope(c, "messages", {
    messaging_product: "whatsapp",
    metadata: metadata(c),
    contacts: [{ profile: { name: "Test Customer" }, wa_id: c.to }],
    messages: [{ from: c.to, id: c.wamid, timestamp: String(c.now), type, [type]: content }],
  });

const status = (c: SampleContext, state: string, extra: Value = {}) =>
  envelope(c, "messages", {
    messaging_product: "whatsapp",
    metadata: metadata(c),
    statuses: [
      {
        id: c.wamid,
        status: state,
        timestamp: String(c.now),
        recipient_id: c.to,
        ...(state === "failed" ? {} : { conversation: { id: `conv-${c.wamid.slice(-12)}`, ...(state === "sent" ? { expiration_timestamp: String(c.now + 86_400) } : {}), origin: { type: "utility" } } }),
        ...(state === "failed" ? {} : { pricing: { billable: true, pricing_model: "PMP", category: "utility", type: "regular" } }),
        ...extra,
      },
    ],
  });

export const SAMPLES: Record<string, { about: string; build: (c: SampleContext) => unknown }> = {
  text: { about: "an inbound text message", build: (c) => inbound(c, "text", { body: "Hello from send-test" }) },
  image: {
    about: "an inbound image with a caption",
    build: (c) => inbound(c, "image", { caption: "a photo", mime_type: "image/jpeg", sha256: "T3RFU3RBQ0tUZXN0", id: "1003383421387256" }),
  },
  reaction: { about: "a reaction to an earlier message", build: (c) => inbound(c, "reaction", { message_id: `${c.wamid}.ORIGINAL`, emoji: "👍" }) },
  location: { about: "a shared location", build: (c) => inbound(c, "location", { latitude: 38.7223, longitude: -9.1393, name: "Praça do Comércio", address: "Lisboa" }) },
  button: { about: "a quick-reply button press", build: (c) => inbound(c, "button", { payload: "CONFIRM", text: "Confirm" }) },
  "status.sent": { about: "an outbound message sent (tracked for SMS fallback when it is on)", build: (c) => status(c, "sent") },
  "status.delivered": { about: "an outbound message delivered", build: (c) => status(c, "delivered") },
  "status.read": { about: "an outbound message read", build: (c) => status(c, "read") },
  "status.failed": {
    // No text of its own (Meta's statuses carry none): the SMS needs a fallback.default_text without {{text}};
    // no pricing (a failed send is not priced): it needs fallback.unknown_category = "send".
    about: 'an outbound message failed with 131026 (undeliverable): with SMS fallback on and unknown_category = "send", an SMS at once of fallback.default_text, as it has no text of its own',
    build: (c) =>
      status(c, "failed", {
        errors: [{ code: 131026, title: "Message undeliverable", message: "Message undeliverable", error_data: { details: "Message Undeliverable." } }],
      }),
  },
  "template.paused": {
    about: "a template paused for low quality (an alert)",
    build: (c) =>
      envelope(c, "message_template_status_update", {
        event: "PAUSED",
        message_template_id: 1689556908129832,
        message_template_name: "order_confirmation",
        message_template_language: "en_US",
        reason: "NONE",
        other_info: { title: "FIRST_PAUSE", description: "Your WhatsApp message template has been paused." },
      }),
  },
  "template.quality": {
    about: "a template's quality dropped to RED",
    build: (c) =>
      envelope(c, "message_template_quality_update", {
        previous_quality_score: "YELLOW",
        new_quality_score: "RED",
        message_template_id: 1689556908129832,
        message_template_name: "order_confirmation",
        message_template_language: "en_US",
      }),
  },
  "quality.flagged": {
    about: "the phone number's quality flagged (an alert)",
    build: (c) => envelope(c, "phone_number_quality_update", { display_phone_number: c.displayNumber, event: "FLAGGED", current_limit: "TIER_2K" }),
  },
  "marketing.stop": {
    about: "the customer stopped marketing messages (user_preferences)",
    build: (c) =>
      envelope(c, "user_preferences", {
        messaging_product: "whatsapp",
        metadata: metadata(c),
        contacts: [{ profile: { name: "Test Customer" }, wa_id: c.to }],
        user_preferences: [{ wa_id: c.to, detail: "User requested to stop marketing messages", category: "marketing_messages", value: "stop", timestamp: c.now }],
      }),
  },
  unknown: { about: "a field this daemon has no type for (forwarded as webhook.unknown)", build: (c) => envelope(c, "some_future_field", { note: "sent by send-test", at: c.now }) },
};
