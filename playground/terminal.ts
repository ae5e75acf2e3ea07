/**
 * The terminal view of a commandline slide: xterm.js showing the command and its output.
 *
 * A plain-text transcript of the same output is kept beside it (visually hidden, announced to
 * screen readers, and what tests read), since xterm renders rows, not the bytes it was given.
 *
 * While a command runs as a session, the terminal takes keys as a terminal's line discipline
 * does: what is typed is echoed and handed over a line at a time on Enter, Backspace edits the
 * line, Ctrl+C interrupts, Ctrl+D on an empty line ends the input. Escape gives the keys back
 * to the deck.
 */
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import { cleanTerminalText } from "./output.js";
import { onLayoutFlip, terminalFontSize } from "./sizes.js";

/** Where keys typed into the terminal go while a command runs. */
export interface TerminalInput {
  line(text: string): void;
  interrupt(): void;
  end(): void;
}

export class TerminalView {
  readonly element: HTMLElement;
  readonly transcript: HTMLPreElement;
  private terminal: Terminal;
  private fit = new FitAddon();
  private opened = false;
  private text = "";
  private readonly stopWatching: () => void;
  private input: TerminalInput | null = null;
  /** The line being typed, not yet handed over. */
  private typed = "";
  /** Escape in the terminal: where the keys go back to. */
  onEscape: (() => void) | null = null;

  constructor(parent: HTMLElement, rows = 12) {
    this.element = document.createElement("div");
    this.element.className = "playground-terminal";
    this.transcript = document.createElement("pre");
    this.transcript.className = "playground-transcript";
    this.transcript.setAttribute("aria-live", "polite");
    parent.append(this.element, this.transcript);
    this.terminal = new Terminal({
      convertEol: true,
      // Keys always reach `typeIn`, which drops them while no command takes input. Toggling
      // `disableStdin` per command would be an option change, and xterm's DOM renderer answers
      // any option change by rewriting its <style> elements: a style recalculation of the whole
      // page in the slide change's task and again in the frame after the output (seen in traces).
      disableStdin: false,
      cursorStyle: "bar",
      cursorInactiveStyle: "none",
      fontSize: terminalFontSize(),
      rows,
      cols: 80,
      scrollback: 500,
      theme: { background: "#1e1e1e" },
    });
    this.terminal.loadAddon(this.fit);
    this.terminal.onData((data) => this.typeIn(data));
    this.terminal.attachCustomKeyEventHandler((event) => {
      if (event.type === "keydown" && event.key === "Escape") {
        this.onEscape?.();
        return false;
      }
      return true;
    });
    this.stopWatching = onLayoutFlip(() => {
      this.terminal.options.fontSize = terminalFontSize();
      this.layout();
    });
  }

  /** Open once the slide is laid out (xterm measures its container). */
  open(): void {
    if (!this.opened) {
      this.terminal.open(this.element);
      this.opened = true;
      if (this.terminal.textarea) this.terminal.textarea.readOnly = this.input === null;
    }
    this.layout();
  }

  layout(): void {
    if (!this.opened || this.element.offsetWidth === 0) return;
    try {
      this.fit.fit();
    } catch {
      // Not measurable yet (hidden slide); the next layout will do.
    }
  }

  /**
   * Erased by escape sequences, parsed at once: attributes off, the screen and then the
   * scrollback erased (xterm moves an erased screen into the scrollback), the cursor home. Not
   * `reset()`: that rebuilds xterm's buffers and fires their listeners, 2 ms of the slide
   * change's task in sampled profiles, and a command's output looks the same after either.
   */
  clear(): void {
    this.drawOffScreen();
    this.parseNextWriteNow();
    this.terminal.write("\x1b[0m\x1b[2J\x1b[3J\x1b[H");
    this.text = "";
    this.typed = "";
    this.transcript.textContent = "";
  }

  write(text: string, style?: "command" | "error" | "note"): void {
    this.text += cleanTerminalText(text);
    this.transcript.textContent = this.text;
    const color = style === "command" ? "\x1b[1;32m" : style === "error" ? "\x1b[31m" : style === "note" ? "\x1b[33m" : "";
    this.parseNextWriteNow();
    this.terminal.write(color ? `${color}${text}\x1b[0m` : text);
    // Output cleared the line being typed (wscat redraws its prompt): show it again after.
    if (this.input && this.typed && !style) this.terminal.write(this.typed);
  }

  /**
   * xterm parses what it is given in a later task (a setTimeout) and draws it in the animation
   * frame after that, so output arriving just before a frame waited for the next one (seen in
   * traces: the frame after a slide change ran between the output's message and xterm's timer).
   * Its write buffer parses at once the first write after the user typed, to keep typing
   * latency low; output is let in the same way, so it is drawn in the very next frame. This
   * reaches into xterm 6's internals (`_core._writeBuffer`): without them, writes are parsed
   * later, as before.
   */
  private parseNextWriteNow(): void {
    (this.terminal as unknown as { _core?: { _writeBuffer?: { handleUserInput?: () => void } } })._core?._writeBuffer?.handleUserInput?.();
  }

  /**
   * xterm pauses its renderer while its screen is outside the viewport (an IntersectionObserver)
   * and draws once the observer says it is back, a task after a frame that shows it. A command
   * runs as its slide is entered, and with reveal's slide transition the entering slide starts
   * outside the viewport: its output was drawn only once the slide had moved in, 4 frames and
   * about 150 ms after the key (bench/frame.ts, default transition), however early it arrived.
   * So a command's terminal draws even there, from its first write. Reaches into xterm 6's
   * internals (`_core._renderService`) like `parseNextWriteNow`: without them, it waits as before.
   */
  private drawOffScreen(): void {
    type RenderService = { _isPaused?: boolean; _handleIntersectionChange?(entry: { isIntersecting: boolean }): void };
    const render = (this.terminal as unknown as { _core?: { _renderService?: RenderService } })._core?._renderService;
    if (render?._isPaused) render._handleIntersectionChange?.({ isIntersecting: true });
  }

  /** Take keys for a running command (null: the terminal is read-only again). */
  takeInput(input: TerminalInput | null): void {
    this.input = input;
    this.typed = "";
    // What `disableStdin` did besides: a read-only textarea (no soft keyboard on a phone's tap).
    if (this.terminal.textarea) this.terminal.textarea.readOnly = input === null;
  }

  get takingInput(): boolean {
    return this.input !== null;
  }

  focus(): void {
    this.terminal.focus();
  }

  get focused(): boolean {
    return this.element.contains(document.activeElement);
  }

  private echo(text: string): void {
    this.text += text;
    this.transcript.textContent = this.text;
    this.terminal.write(text);
  }

  private typeIn(data: string): void {
    const input = this.input;
    if (!input) return;
    // Arrow keys and other sequences: no line editing beyond Backspace.
    if (data.startsWith("\x1b")) return;
    for (const c of data) {
      if (c === "\r" || c === "\n") {
        const line = this.typed;
        this.typed = "";
        this.echo("\n");
        input.line(line);
      } else if (c === "\x7f" || c === "\b") {
        if (this.typed === "") continue;
        this.typed = [...this.typed].slice(0, -1).join("");
        this.text = this.text.slice(0, -1);
        this.transcript.textContent = this.text;
        this.terminal.write("\b \b");
      } else if (c === "\x03") {
        this.typed = "";
        this.echo("^C\n");
        input.interrupt();
        return;
      } else if (c === "\x04") {
        if (this.typed === "") {
          input.end();
          return;
        }
      } else if (c >= " ") {
        this.typed += c;
        this.echo(c);
      }
    }
  }

  get output(): string {
    return this.text;
  }

  dispose(): void {
    this.stopWatching();
    this.terminal.dispose();
  }
}
