/**
 * The terminal view of a commandline slide: xterm.js showing the command and its output.
 *
 * A plain-text transcript of the same output is kept beside it (visually hidden, announced to
 * screen readers, and what tests read), since xterm renders rows, not the bytes it was given.
 */
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import { onLayoutFlip, terminalFontSize } from "./sizes.js";

export class TerminalView {
  readonly element: HTMLElement;
  readonly transcript: HTMLPreElement;
  private terminal: Terminal;
  private fit = new FitAddon();
  private opened = false;
  private text = "";
  private readonly stopWatching: () => void;

  constructor(parent: HTMLElement, rows = 12) {
    this.element = document.createElement("div");
    this.element.className = "playground-terminal";
    this.transcript = document.createElement("pre");
    this.transcript.className = "playground-transcript";
    this.transcript.setAttribute("aria-live", "polite");
    parent.append(this.element, this.transcript);
    this.terminal = new Terminal({
      convertEol: true,
      disableStdin: true,
      cursorStyle: "bar",
      cursorInactiveStyle: "none",
      fontSize: terminalFontSize(),
      rows,
      cols: 80,
      scrollback: 500,
      theme: { background: "#1e1e1e" },
    });
    this.terminal.loadAddon(this.fit);
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

  clear(): void {
    this.terminal.reset();
    this.text = "";
    this.transcript.textContent = "";
  }

  write(text: string, style?: "command" | "error" | "note"): void {
    this.text += text;
    this.transcript.textContent = this.text;
    const color = style === "command" ? "\x1b[1;32m" : style === "error" ? "\x1b[31m" : style === "note" ? "\x1b[33m" : "";
    this.terminal.write(color ? `${color}${text}\x1b[0m` : text);
  }

  get output(): string {
    return this.text;
  }

  dispose(): void {
    this.stopWatching();
    this.terminal.dispose();
  }
}
