/**
 * A person's page when they had several ids (migrations/0013): one index range per id,
 * each newest first and cut at `limit`, merged. Never one query over all ids: `wa_id IN
 * (…) ORDER BY id` reads and sorts every event of the person for each page. Both engines.
 */
export function newestOfEach<R extends { id: string }>(ranges: readonly R[][], limit: number): R[] {
  return ranges.length === 1 ? ranges[0]!.slice(0, limit) : ranges.flat().sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, limit);
}
