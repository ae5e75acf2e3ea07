/**
 * The engine contract, as one vitest suite run against every engine.
 *
 * The suite only needs a driver that can start a program and run a command, so it runs the
 * in-page engine inside Chromium (e2e/playground-engines.test.ts drives it through the page)
 * and the WebContainer engine over the Node-backed container
 * (playground/webcontainer/engine.serial.test.ts) with the same cases and the same
 * expectations: the talk's three outputs, an edit, a 304, and the bad-input cases; and a
 * command that stays connected (wscat -c) as a session: streamed, typed into, stopped, left
 * alone by the watchdog while the program is healthy, and stopped with the program when not.
 */
import { describe, expect, it } from "vitest";
import { CommandInput, type CommandResult, type Program, type RunOptions, type StartResult } from "./engine.js";
import { cleanTerminalText } from "./output.js";

/** A command run as a session (`RunOptions.signal`/`input`), as the deck's terminal runs it. */
export interface SessionDriver {
  /** Resolves with everything printed so far once `shown()` of it matches `pattern` (fails after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Type a line (Enter included). */
  type(line: string): Promise<void>;
  /** Ctrl+C. */
  stop(): Promise<void>;
  /** The run's result once the command has ended. */
  result(): Promise<CommandResult & { serverLog: string }>;
}

/**
 * A SessionDriver over an engine in this process: `run` with an AbortSignal and a CommandInput,
 * output collected as it streams.
 */
export function localSession(
  run: (command: string, onOutput: (text: string) => void, options: RunOptions) => Promise<CommandResult>,
  serverLog: () => string,
  command: string,
  timeoutMs?: number,
): SessionDriver {
  const input = new CommandInput();
  const interrupt = new AbortController();
  let output = "";
  const waiters = new Set<() => void>();
  const ran = run(command, (text) => {
    output += text;
    for (const w of [...waiters]) w();
  }, { signal: interrupt.signal, input, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  let ended = false;
  void ran.finally(() => {
    ended = true;
    for (const w of [...waiters]) w();
  });
  return {
    waitFor: (pattern, waitMs = 10_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`no ${pattern} within ${waitMs} ms; output so far: ${JSON.stringify(output)}`)), waitMs);
        const check = () => {
          if (pattern.test(shown(output))) done(null);
          else if (ended) done(new Error(`the command ended without ${pattern}; output: ${JSON.stringify(output)}`));
        };
        const done = (error: Error | null) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(output);
        };
        waiters.add(check);
        check();
      }),
    type: async (line) => input.line(line),
    stop: async () => interrupt.abort(),
    result: async () => {
      const r = await ran;
      // Access-log lines are written as the response goes out; give the log a moment.
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { ...r, serverLog: serverLog() };
    },
  };
}

export interface EngineDriver {
  start(program: Program): Promise<StartResult>;
  /** Run a command; `serverLog` is what the program printed/logged while it ran. */
  run(command: string): Promise<CommandResult & { serverLog: string }>;
  /** Start a command as a session; `timeoutMs` is the watchdog's window. */
  session(command: string, options?: { timeoutMs?: number }): Promise<SessionDriver>;
  stop(): Promise<void>;
  /** Keep the thread the engine runs on busy for `ms`: a long task (a background tab's throttled timers leave the same gap). */
  busy(ms: number): Promise<void>;
}

/** Hold this thread for `ms`, as a long task does. */
export function holdThread(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

/** A websocket echo server for the session cases (a test program, not one of the talk's). */
export const ECHO_PROGRAM: Program = {
  name: "echo",
  main: "echo.ts",
  files: {
    "echo.ts": `import { Application } from "tornado/web";
import { WebSocketHandler } from "tornado/websocket";

class Echo extends WebSocketHandler {
  open() {
    void this.writeMessage("welcome");
  }
  onMessage(message: string) {
    if (message === "loop") while (true) {}
    void this.writeMessage("echo: " + message);
  }
}

new Application([["/echo", Echo]]).listen(8888);
`,
  },
};

/** What a terminal shows, without colours and line clearing (both engines, any terminal). */
export function shown(output: string): string {
  return cleanTerminalText(output).replace(/^[^\n]*\r(?!\n)/gm, "");
}

export interface Talk {
  hello: Program;
  json: Program;
  templates: Program;
}

/** Header value from curl -i output (case-insensitive name). */
export function header(output: string, name: string): string | undefined {
  const head = output.split(/\r?\n\r?\n/)[0] ?? "";
  for (const line of head.split(/\r?\n/).slice(1)) {
    const i = line.indexOf(":");
    if (i > 0 && line.slice(0, i).toLowerCase() === name.toLowerCase()) return line.slice(i + 1).trim();
  }
  return undefined;
}

export function body(output: string): string {
  const i = output.search(/\r?\n\r?\n/);
  return i < 0 ? "" : output.slice(i).replace(/^\r?\n\r?\n/, "");
}

function edit(program: Program, from: string, to: string): Program {
  const source = program.files[program.main]!;
  if (!source.includes(from)) throw new Error(`contract: ${program.main} does not contain ${from}`);
  return { ...program, files: { ...program.files, [program.main]: source.replace(from, to) } };
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function engineContract(name: string, driver: () => EngineDriver, talk: () => Talk): void {
  describe(`engine contract: ${name}`, () => {
    const expectTalkOutput = (out: CommandResult, length: number, etag: string, contentType: string, text: string) => {
      expect(out.exitCode).toBe(0);
      expect(out.stdout.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
      expect(header(out.stdout, "Content-Length")).toBe(String(length));
      expect(header(out.stdout, "Etag")).toBe(`"${etag}"`);
      expect(header(out.stdout, "Content-Type")).toBe(contentType);
      expect(header(out.stdout, "Server")).toMatch(/^Tornado\S*\/\S+$/);
      expect(body(out.stdout)).toBe(text);
    };

    it("hello: the talk's Hello, world", async () => {
      const d = driver();
      const started = await d.start(talk().hello);
      expect(started).toMatchObject({ ok: true, ports: [8888] });
      const out = await d.run("curl -i http://localhost:8888");
      expectTalkOutput(out, 12, "e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8", "text/html; charset=UTF-8", "Hello, world");
      expect(out.serverLog).toMatch(/200 GET \/ \(127\.0\.0\.1\)/);
      // The one request curl made, nothing an engine served for itself (its warm-up) before.
      expect(out.serverLog.match(/\d{3} [A-Z]+ \/\S* \(/g)).toEqual(["200 GET / ("]);
    });

    it("json: the talk's {\"msg\": \"hello!\"}", async () => {
      const d = driver();
      expect((await d.start(talk().json)).ok).toBe(true);
      const out = await d.run("curl -i http://localhost:8888/json");
      expectTalkOutput(out, 17, "4d34dd0d61eba5957a5ca36846f974697c730a22", "application/json; charset=UTF-8", '{"msg": "hello!"}');
    });

    it("templates: the talk's rendered index.html", async () => {
      const d = driver();
      expect((await d.start(talk().templates)).ok).toBe(true);
      const out = await d.run("curl -i http://localhost:8888");
      expectTalkOutput(
        out,
        32,
        "3e7020fdb7b87ef428cbdd140c96217044748c27",
        "text/html; charset=UTF-8",
        "<html>\n<h1> hello!</h1>\n</html>\n",
      );
    });

    it("an edit changes the body, its length and its Etag; If-None-Match gives a 304", async () => {
      const d = driver();
      expect((await d.start(edit(talk().hello, '"Hello, world"', '"Hello, Barcelona"'))).ok).toBe(true);
      const out = await d.run("curl -i http://localhost:8888");
      const etag = await sha1Hex("Hello, Barcelona");
      expectTalkOutput(out, 16, etag, "text/html; charset=UTF-8", "Hello, Barcelona");
      const cached = await d.run(`curl -i -H 'If-None-Match: "${etag}"' http://localhost:8888`);
      expect(cached.stdout.split("\r\n")[0]).toBe("HTTP/1.1 304 Not Modified");
      expect(body(cached.stdout)).toBe("");
    });

    it("a syntax error is a compile failure with its line", async () => {
      const d = driver();
      const broken = edit(talk().hello, 'this.write("Hello, world");', 'this.write("Hello, world";');
      const started = await d.start(broken);
      expect(started).toMatchObject({ ok: false, kind: "compile", file: "hello.ts", line: 6 });
      expect(!started.ok && started.message).toMatch(/^hello\.ts:6:\d+: SyntaxError: /);
    });

    it("an exception in a handler is a 500 with the stack in the server log", async () => {
      const d = driver();
      const failing = edit(talk().hello, 'this.write("Hello, world");', 'throw new Error("boom from the handler");');
      expect((await d.start(failing)).ok).toBe(true);
      const out = await d.run("curl -i http://localhost:8888");
      expect(out.stdout.split("\r\n")[0]).toBe("HTTP/1.1 500 Internal Server Error");
      expect(out.serverLog).toContain("Error: boom from the handler");
      expect(out.serverLog).toMatch(/at MainHandler\.get/);
      expect(out.serverLog).toMatch(/500 GET \/ \(127\.0\.0\.1\)/);
    });

    it("a program that throws before listening is reported as a crash", async () => {
      const d = driver();
      const started = await d.start(edit(talk().hello, "application.listen(8888);", 'throw new Error("no listen today");'));
      expect(started).toMatchObject({ ok: false, kind: "crash" });
      expect(!started.ok && started.message).toContain("no listen today");
    });

    it("an endless loop in a handler is stopped within 5 s, and the next run works", async () => {
      const d = driver();
      expect((await d.start(edit(talk().hello, 'this.write("Hello, world");', "while (true) {}"))).ok).toBe(true);
      const t0 = Date.now();
      const stuck = await d.run("curl -i http://localhost:8888");
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(stuck.timedOut).toBe(true);
      expect(stuck.stderr).toMatch(/stopped after/);
      expect((await d.start(talk().hello)).ok).toBe(true);
      const out = await d.run("curl -i http://localhost:8888");
      expect(body(out.stdout)).toBe("Hello, world");
    });

    it("a program stuck before it listens is stopped within 5 s, and the next start works", async () => {
      const d = driver();
      const t0 = Date.now();
      const started = await d.start(edit(talk().hello, "application.listen(8888);", "while (true) {}"));
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(started).toMatchObject({ ok: false, kind: "timeout" });
      expect((await d.start(talk().hello)).ok).toBe(true);
      expect(body((await d.run("curl -i http://localhost:8888")).stdout)).toBe("Hello, world");
    });

    it("commands other than curl are refused with a reason", async () => {
      const d = driver();
      const out = await d.run("wget http://localhost:8888");
      expect(out.exitCode).toBe(127);
      expect(out.stderr).toMatch(/wget: command not found/);
    });

    it("curl to a port nobody listens on fails like curl does", async () => {
      const d = driver();
      expect((await d.start(talk().hello)).ok).toBe(true);
      const out = await d.run("curl -i http://localhost:8889");
      expect(out.exitCode).toBe(7);
    });

    it("wscat -c streams what arrives as it arrives, sends the lines typed, and Ctrl+C ends it", async () => {
      const d = driver();
      expect((await d.start(ECHO_PROGRAM)).ok).toBe(true);
      const s = await d.session("wscat -c ws://localhost:8888/echo");
      // The server's first message is on the screen while the command still runs.
      expect(shown(await s.waitFor(/< welcome\n> $/))).toBe("Connected (press CTRL+C to quit)\n< welcome\n> ");
      await s.type("hi there");
      expect(shown(await s.waitFor(/< echo: hi there\n> $/))).toMatch(/< welcome\n< echo: hi there\n> $/);
      await s.stop();
      const r = await s.result();
      expect(r).toMatchObject({ exitCode: 0, stopped: true, timedOut: false });
      expect(r.serverLog).toMatch(/101 GET \/echo \(127\.0\.0\.1\)/);
    });

    it("a session outlives the watchdog's window while the program is healthy", async () => {
      const d = driver();
      expect((await d.start(ECHO_PROGRAM)).ok).toBe(true);
      const s = await d.session("wscat -c ws://localhost:8888/echo", { timeoutMs: 1000 });
      await s.waitFor(/< welcome\n> $/);
      // Connected and idle for more than twice the window: waiting on the network, not spinning.
      await new Promise((r) => setTimeout(r, 2500));
      await s.type("still here");
      await s.waitFor(/< echo: still here\n> $/);
      await s.stop();
      expect(await s.result()).toMatchObject({ exitCode: 0, stopped: true, timedOut: false });
    });

    it("a session outlives a thread that was busy for longer than the window: the watchdog asked nothing meanwhile", async () => {
      const d = driver();
      expect((await d.start(ECHO_PROGRAM)).ok).toBe(true);
      const s = await d.session("wscat -c ws://localhost:8888/echo", { timeoutMs: 1000 });
      await s.waitFor(/< welcome\n> $/);
      await d.busy(2500);
      // Several of the watchdog's rounds after the gap: the program answers them.
      await new Promise((r) => setTimeout(r, 600));
      await s.type("still here");
      await s.waitFor(/< echo: still here\n> $/);
      await s.stop();
      expect(await s.result()).toMatchObject({ exitCode: 0, stopped: true, timedOut: false });
    });

    it("a program stuck in an endless loop during a session is stopped within the window, and the next run works", async () => {
      const d = driver();
      expect((await d.start(ECHO_PROGRAM)).ok).toBe(true);
      const s = await d.session("wscat -c ws://localhost:8888/echo", { timeoutMs: 1500 });
      await s.waitFor(/< welcome\n> $/);
      const t0 = Date.now();
      await s.type("loop");
      const r = await s.result();
      expect(Date.now() - t0).toBeLessThan(4000);
      expect(r.timedOut).toBe(true);
      expect(r.stderr).toMatch(/stopped after 1\.5 s/);
      // The program starts again for the next command.
      const again = await d.run("wscat -c ws://localhost:8888/echo -x again -w 0.5");
      expect(again).toMatchObject({ exitCode: 0, stdout: "welcome\necho: again\n" });
    });

    it("wscat -x sends, prints what comes back and exits after -w seconds, as one-shot commands", async () => {
      const d = driver();
      expect((await d.start(ECHO_PROGRAM)).ok).toBe(true);
      const out = await d.run("wscat -c ws://localhost:8888/echo -x one -x two -w 1");
      expect(out).toMatchObject({ exitCode: 0, stdout: "welcome\necho: one\necho: two\n", stderr: "", timedOut: false });
      expect(out.ms).toBeGreaterThanOrEqual(900);
      // In the terminal too: it ends by itself.
      const s = await d.session("wscat -c ws://localhost:8888/echo -x three -w 0.5");
      const r = await s.result();
      expect(r.exitCode).toBe(0);
      expect(r.stopped).toBeFalsy();
      expect(shown(r.stdout)).toMatch(/^welcome\necho: three\n/);
      const refused = await d.run("wscat -c ws://localhost:8889/");
      expect(refused.exitCode).toBe(255);
      expect(refused.stdout + refused.stderr).toMatch(/error: .*ECONNREFUSED/);
    });
  });
}
