/**
 * What Meta's error codes mean, in a line each, for people reading a message's history
 * (the console's message page). From Meta's error-code reference as summarised in
 * ../shared/reference/whatsapp-payloads.md §5; the fallback policy that acts on them is
 * domain/fallback-policy.ts. No zod, no Node: the console's bundle imports this file.
 */
const MEANINGS: Record<number, string> = {
  0: "Authentication or permission problem: the access token cannot be used",
  3: "The app lacks the permission this call needs",
  10: "Permission denied",
  190: "The access token has expired",
  368: "Temporarily blocked for policy violations",
  470: "Outside the 24-hour customer service window",
  130403: "Not sent: the message would break a product policy",
  130429: "Cloud API throughput reached (rate limit)",
  130472: "The user's number is part of an experiment: marketing templates are not delivered",
  130497: "The business may not message users in this country",
  131000: "Something went wrong at Meta (unknown error)",
  131005: "Access denied: the token lacks the permission",
  131008: "A required parameter is missing",
  131009: "A parameter value is not valid",
  131016: "WhatsApp is temporarily unavailable",
  131020: "Groups: the request was not valid",
  131021: "The recipient cannot be the sender",
  131026: "Undeliverable: the number is not on WhatsApp, has not accepted the terms, or runs an outdated app",
  131030: "The recipient is not in the test number's allowed list",
  131031: "The business account is locked",
  131036: "Undelivered within its time to live (the recipient's app could not decrypt it)",
  131037: "The number has no approved display name",
  131041: "Groups: the participant cannot be added",
  131042: "Business eligibility or payment problem: every message fails until it is fixed",
  131045: "The phone number's registration or certificate is wrong",
  131047: "More than 24 hours since the user last wrote: only templates may be sent",
  131048: "Spam rate limit: too many earlier messages were blocked or flagged",
  131049: "Not delivered to keep engagement healthy (per-user marketing limit); do not resend for 24 hours",
  131050: "The user stopped marketing messages from this business",
  131051: "Message type not supported",
  131052: "The user's media could not be downloaded",
  131053: "The media could not be uploaded or used",
  131056: "Too many messages to this user in a short time (pair rate limit)",
  131057: "The business account is in maintenance mode",
  131062: "This message cannot go to a business-scoped user id",
  131063: "Marketing templates are disabled for the Cloud API",
  131064: "Messaging limit reached after template classification violations",
  132000: "The template's parameter count does not match",
  132001: "The template does not exist in that language, or is not approved",
  132005: "The template's text is too long after its parameters",
  132007: "The template breaks a formatting policy",
  132008: "A template parameter has the wrong format",
  132012: "A template parameter is not valid",
  132015: "The template is paused for low quality",
  132016: "The template is disabled",
  132068: "The flow is blocked",
  132069: "The flow is throttled",
  133016: "Registration rate limit reached",
  135000: "Generic user error",
  137000: "The recipient's identity key changed (new device or reinstall): not delivered",
};

/** The meaning of a code, or null when it is not one this table knows. */
export function errorMeaning(code: number | string | null | undefined): string | null {
  const n = typeof code === "string" ? Number(code) : code;
  if (typeof n !== "number" || !Number.isInteger(n)) return null;
  if (n >= 200 && n <= 299) return "The app lacks a permission this call needs";
  return MEANINGS[n] ?? null;
}
