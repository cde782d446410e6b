/** util/wakeup.ts: a wake-up is never lost, and a wait ends on the first wake or at its bound. */
import { expect, test } from "bun:test";
import { Wakeup } from "../../src/util/wakeup";

test("a wake while nobody waits ends the next wait at once, and only that one", async () => {
  const w = new Wakeup();
  w.wake();
  w.wake();
  let ended = false;
  await w.wait(60_000).then(() => (ended = true));
  expect(ended).toBe(true);
  const second = w.wait(20).then(() => "bound");
  expect(await Promise.race([second, Promise.resolve("still waiting")])).toBe("still waiting");
  expect(await second).toBe("bound");
});

test("a wake during a wait ends it; the one after that waits again", async () => {
  const w = new Wakeup();
  const waiting = w.wait(60_000).then(() => "woken");
  w.wake();
  expect(await waiting).toBe("woken");
  const again = w.wait(60_000).then(() => "woken");
  expect(await Promise.race([again, Bun.sleep(30).then(() => "still waiting")])).toBe("still waiting");
  w.wake();
  expect(await again).toBe("woken");
});
