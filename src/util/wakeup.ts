/**
 * A wake-up that is not lost: `wake()` while nobody waits makes the next `wait()` return
 * at once (a notification arriving between a pass and its wait still counts). `wait(ms)`
 * resolves on the first wake or after `ms`, whichever is first.
 */
export class Wakeup {
  #pending = false;
  #resolve: (() => void) | null = null;

  wake() {
    if (this.#resolve) this.#resolve();
    else this.#pending = true;
  }

  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#resolve = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#resolve = done;
    });
  }
}
