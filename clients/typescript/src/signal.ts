/**
 * A resettable flag that async loops wait on (asyncio.Event's shape): set
 * wakes every waiter; a set flag stays set until cleared.
 */
export class Flag {
  private isSet = false;
  private readonly waiters = new Set<() => void>();

  /** Sets the flag and wakes every waiter. */
  set(): void {
    this.isSet = true;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Clears the flag. */
  clear(): void {
    this.isSet = false;
  }

  /** True while set. */
  get value(): boolean {
    return this.isSet;
  }

  /** @internal */
  subscribe(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }
}

/**
 * Resolves once any of `flags` is set, or after `timeoutMs` (if given);
 * true when a flag woke it.
 */
export function waitAny(flags: readonly Flag[], timeoutMs?: number): Promise<boolean> {
  if (flags.some((flag) => flag.value)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const unsubscribers: (() => void)[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (woken: boolean): void => {
      for (const unsubscribe of unsubscribers) unsubscribe();
      if (timer !== undefined) clearTimeout(timer);
      resolve(woken);
    };
    for (const flag of flags) unsubscribers.push(flag.subscribe(() => finish(true)));
    if (timeoutMs !== undefined) timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
