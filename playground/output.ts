/**
 * Small helpers shared by the engines: output collection, terminal clean-up, deadlines.
 */

/** Strip ANSI escape sequences (a WebContainer's PTY adds them) and the PTY's doubled CR. */
export function cleanTerminalText(text: string): string {
  return text
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, "")
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
    .replace(/\r\r\n/g, "\r\n");
}

/** A promise that resolves to `value` after `ms`, plus a way to cancel the timer. */
export function deadline<T>(ms: number, value: T): { promise: Promise<T>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(value), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

export const now = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());
