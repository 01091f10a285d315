/** Polls a condition until it holds or the deadline passes: tests never sleep on luck. */
export async function pollUntil<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: { timeout_ms: number; interval_ms?: number; what: string; stop_on?: (error: unknown) => boolean },
): Promise<T> {
  const deadline_ms = Date.now() + options.timeout_ms;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      if (options.stop_on?.(error) === true) throw error;
      lastError = error;
    }
    if (Date.now() > deadline_ms) {
      const why = lastError === null ? '' : ` (last error: ${(lastError as Error).message})`;
      throw new Error(`timed out after ${options.timeout_ms} ms waiting for ${options.what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.interval_ms ?? 20));
  }
}
