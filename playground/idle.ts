/** Run `fn` when the main thread is idle (or after at most `timeoutMs`). */
export function whenIdle(fn: () => void, timeoutMs = 300): void {
  if (typeof requestIdleCallback === "function") requestIdleCallback(() => fn(), { timeout: timeoutMs });
  else setTimeout(fn, 30);
}

/**
 * Run `fn` once the next frame is painted: an animation frame callback runs in that frame, and
 * a message posted from there is handled once the frame is done (a timer could run before it).
 */
export function afterFrame(fn: () => void): void {
  requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      fn();
    };
    channel.port2.postMessage(null);
  });
}
