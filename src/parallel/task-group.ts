/**
 * A set of submitted tasks whose failure is noticed at once: the first rejection is recorded as
 * soon as it happens (no unhandled rejections while more work is being queued), so producers can
 * stop early, and `all()` rethrows it after every task has settled.
 * @module
 */

export class TaskGroup<T> {
  readonly #jobs: Promise<T>[] = [];
  #error: { error: unknown } | null = null;

  add(job: Promise<T>): void {
    job.catch((error) => {
      this.#error ??= { error };
    });
    this.#jobs.push(job);
  }

  get failed(): boolean {
    return this.#error !== null;
  }

  async all(): Promise<T[]> {
    const settled = await Promise.allSettled(this.#jobs);
    if (this.#error) throw this.#error.error;
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  }
}
