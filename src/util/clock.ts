/** Injectable time source, so tests can jump hours without sleeping. */
export interface Clock {
  now(): number; // unix epoch milliseconds
}

export const systemClock: Clock = { now: () => Date.now() };
