/** [fallback.sms] settings for tests, with the schema's defaults. */
import { SmsSchema } from "../../src/config/schema";
import type { SmsSettings } from "../../src/sweeper/sms-request";

export const parseSmsSettings = (input: Record<string, unknown>): SmsSettings => SmsSchema.parse(input);
