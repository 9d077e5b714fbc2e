/** Thrown by a check to stop polling at once: waiting longer cannot help (the process it waits for has exited). */
export class PollAborted extends Error {
  override name = 'PollAborted';
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function pollUntil<T>(
  description: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs, intervalMs = 100 }: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
    } catch (error) {
      if (error instanceof PollAborted) throw error;
      lastError = error; // Not there yet (e.g. admin not listening); keep polling until the deadline.
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
