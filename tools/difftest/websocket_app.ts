/**
 * The websocket reference app on our runtime: the twin of tools/difftest/websocket_app.py (see
 * there for what each message does). Used by the websocket peer and differential tests.
 */
import { Application, type Settings } from "tornado/web";
import { WebSocketHandler, type CompressionOptions, type WebSocketMessage } from "tornado/websocket";

const lastClose: { code: number | null; reason: string | null } = { code: null, reason: null };
const latin1 = (data: Uint8Array) => String.fromCharCode(...data);

class EchoHandler extends WebSocketHandler {
  override selectSubprotocol(subprotocols: string[]): string | null {
    return subprotocols.includes("chat") ? "chat" : null;
  }

  override open(): void {
    const hello = this.getArgument("hello", null);
    if (hello !== null) void this.writeMessage("hello " + hello);
    const cookie = this.getCookie("who");
    if (cookie !== null) void this.writeMessage("cookie " + cookie);
  }

  override onMessage(message: WebSocketMessage): void {
    if (typeof message === "string" && message.startsWith("close:")) {
      const [, code, ...reason] = message.split(":");
      this.close(code ? Number(code) : null, reason.join(":") || null);
    } else if (typeof message === "string" && message.startsWith("ping:")) {
      this.ping(message.slice(5));
    } else if (message === "json") {
      void this.writeMessage({ a: [1, "caf\u00e9", null, true], b: "</script>", c: 1.5 });
    } else if (message === "lastclose") {
      void this.writeMessage(`${lastClose.code ?? "None"} ${lastClose.reason ?? "None"}`);
    } else {
      void this.writeMessage(message, typeof message !== "string");
    }
  }

  override onPing(data: Uint8Array): void {
    void this.writeMessage("ping " + latin1(data));
  }

  override onPong(data: Uint8Array): void {
    void this.writeMessage("pong " + latin1(data));
  }

  override onClose(): void {
    lastClose.code = this.closeCode;
    lastClose.reason = this.closeReason;
  }
}

class PathHandler extends EchoHandler {
  override open(name?: string): void {
    void this.writeMessage("path " + name);
  }
}

class SlowHandler extends WebSocketHandler {
  override async onMessage(message: WebSocketMessage): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, message === "first" ? 50 : 0));
    void this.writeMessage("done " + String(message));
  }
}

class DeflateHandler extends EchoHandler {
  override getCompressionOptions(): CompressionOptions | null {
    return {};
  }
}

class OriginHandler extends EchoHandler {
  override checkOrigin(origin: string): boolean {
    return origin === "http://allowed.example";
  }
}

export function websocketApp(settings: Settings = {}): Application {
  return new Application(
    [
      ["/echo", EchoHandler],
      ["/path/(\\w+)", PathHandler],
      ["/slow", SlowHandler],
      ["/deflate", DeflateHandler],
      ["/origin", OriginHandler],
    ],
    settings,
  );
}
