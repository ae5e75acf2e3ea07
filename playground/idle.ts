/** Run `fn` when the main thread is idle (or after at most `timeoutMs`). */
export function whenIdle(fn: () => void, timeoutMs = 300): void {
  if (typeof requestIdleCallback === "function") requestIdleCallback(() => fn(), { timeout: timeoutMs });
  else setTimeout(fn, 30);
}
