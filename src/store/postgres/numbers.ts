/** Bun's client answers int8 columns as strings: a nullable one as a number, or null. */
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
