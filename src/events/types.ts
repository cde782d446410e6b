/** Event types emitted to hooks (public contract: docs/events.md). */
export const EVENT_TYPES = [
  "message.received",
  "message.status",
  "message.echo",
  "template.status",
  "template.quality",
  "template.components",
  "template.category",
  "account.update",
  "account.review",
  "account.alert",
  "account.security",
  "phone_number.quality",
  "phone_number.name",
  "business.capability",
  "flow.update",
  "user.preferences",
  "call.event",
  "message.stale",
  "message.fallback",
  "fallback.held",
  "webhook.error",
  "webhook.unknown",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Meta field name → event type, for fields whose whole `value` is one event. */
export const FIELD_EVENT_TYPES: Record<string, EventType> = {
  message_template_status_update: "template.status",
  message_template_quality_update: "template.quality",
  message_template_components_update: "template.components",
  template_category_update: "template.category",
  account_update: "account.update",
  account_review_update: "account.review",
  account_alerts: "account.alert",
  phone_number_quality_update: "phone_number.quality",
  phone_number_name_update: "phone_number.name",
  business_capability_update: "business.capability",
  security: "account.security",
  flows: "flow.update",
};
