/**
 * Serve a talk example (which hard-codes `application.listen(8888)`, as the talk does) on
 * another port, without touching the runtime or the example: the runtime's platform is
 * swapped (`setPlatform`) for one whose `listen` maps port 8888 to the port asked for.
 * Every listener that binds is announced through `onListen` (the real port, after port 0).
 */
import { platform, setPlatform, type Platform, type PlatformListener } from "tornado/platform/index";

export const TALK_PORT = 8888;

export function redirectTalkPort(
  port: number,
  onListen: (listener: PlatformListener) => void,
  /** A bind failure (EADDRINUSE...): `Application.listen` only logs it, so a runner learns it here. */
  onListenError?: (error: unknown, port: number) => void,
): void {
  const base: Platform = platform();
  const mapped: Platform = Object.create(base) as Platform;
  Object.defineProperty(mapped, "listen", {
    value: async (options: Parameters<Platform["listen"]>[0]) => {
      const target = options.port === TALK_PORT ? port : options.port;
      let listener: PlatformListener;
      try {
        listener = await base.listen({ ...options, port: target });
      } catch (error) {
        onListenError?.(error, target);
        throw error;
      }
      onListen(listener);
      return listener;
    },
  });
  setPlatform(mapped);
}
