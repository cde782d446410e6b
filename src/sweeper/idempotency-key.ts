/**
 * The wamid is the SMS request's Idempotency-Key header, as it is: one key per message,
 * the same on every attempt, so the provider can drop a repeat (after a crash, a resend).
 * A header value cannot hold CR, LF, NUL or other control characters (fetch refuses the
 * request: "invalid header value"). Meta's wamids are "wamid." + base64: visible ASCII,
 * well under 512 characters. A wamid outside that is not Meta's, so it is not tracked
 * (an escaped key would be stable, but would stand for no message the provider or the
 * app could know); POST /v1/outbound refuses it with the same words.
 */
export const WAMID_MAX_LENGTH = 512;
export const WAMID_PATTERN = /^[\x21-\x7e]+$/;
export const WAMID_EXPECTED = "expected a WhatsApp message id (such as wamid.HBgL…=): visible ASCII, no spaces or control characters";

export const isIdempotencyKey = (wamid: string): boolean => wamid.length <= WAMID_MAX_LENGTH && WAMID_PATTERN.test(wamid);
