/** A phone number or WhatsApp id as digits, without the `+` (no zod here: the console's bundle uses it too). */
export function phoneDigits(value: string | number): string {
  const text = String(value);
  return text.startsWith("+") ? text.slice(1) : text;
}
