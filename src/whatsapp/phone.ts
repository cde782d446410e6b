/** A phone number or WhatsApp id as digits, without the `+` (no zod here: the console's bundle uses it too). */
export function phoneDigits(value: string | number): string {
  const text = String(value);
  return text.startsWith("+") ? text.slice(1) : text;
}

/** A display number as digits: "+1 555-078-3881" and "15550783881" are one number (a state key, a lookup). */
export const displayDigits = (display: string) => display.replace(/[^0-9]/g, "");
