/** A counting semaphore: bounds how many tasks run at once (parallelism, process slots). */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  /** @param limit - how many holders at once; `Infinity` for no bound. */
  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`Semaphore: limit must be >= 1, got ${limit}`);
  }

  /** Waits for a slot; the returned function releases it (call it exactly once). */
  async acquire(): Promise<() => void> {
    if (this.active < this.limit) {
      this.active++;
    } else {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }

  /** Runs `fn` holding a slot. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** Holds slots of several semaphores at once (acquired in order), released together. */
export async function acquireAll(semaphores: readonly (Semaphore | undefined)[]): Promise<() => void> {
  const releases: (() => void)[] = [];
  for (const s of semaphores) if (s) releases.push(await s.acquire());
  return () => {
    for (const r of releases.reverse()) r();
  };
}
