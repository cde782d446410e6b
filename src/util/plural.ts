/** "1 event", "2 events", "2 deliveries": a count with its noun, for lines people read. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
