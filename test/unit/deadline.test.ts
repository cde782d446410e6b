/** Request deadlines (util/deadline.ts): a TimeoutError when late, and no timer left once the work is done. */
import { expect, test } from "bun:test";
import { withDeadline } from "../../src/util/deadline";

test("work that outlasts the deadline sees its signal abort with a TimeoutError, which fetch rethrows", async () => {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async () => (await Bun.sleep(500), new Response("late")) });
  try {
    const error = await withDeadline(30, (signal) => fetch(`http://127.0.0.1:${server.port}/`, { signal })).catch((e: Error) => e);
    expect((error as Error).name).toBe("TimeoutError");
  } finally {
    server.stop(true);
  }
});

test("once the work settles, its timer is gone: the signal never aborts afterwards", async () => {
  let kept: AbortSignal | null = null;
  expect(await withDeadline(20, async (signal) => ((kept = signal), "answer"))).toBe("answer");
  await expect(withDeadline(20, async (signal) => {
    kept = signal;
    throw new Error("refused");
  })).rejects.toThrow("refused");
  await Bun.sleep(60);
  expect(kept!.aborted).toBe(false);
});
