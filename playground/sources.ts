/**
 * The programs as the presenter has edited them: the catalog's text, overlaid with edits kept
 * in localStorage (so a reload mid-talk loses nothing), with a reset to the talk's version.
 */
import type { Program } from "./engine.js";

const PREFIX = "tornado-deck:playground:";

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // blocked storage (privacy modes): edits then live for the page only
  }
}

export class Sources {
  private readonly memory = new Map<string, string>();
  private readonly listeners = new Set<(name: string, file: string, text: string) => void>();

  constructor(private readonly catalog: Record<string, Program>) {}

  has(name: string): boolean {
    return name in this.catalog;
  }

  names(): string[] {
    return Object.keys(this.catalog);
  }

  original(name: string, file?: string): string {
    const program = this.require(name);
    return program.files[file ?? program.main] ?? "";
  }

  /** The file's current text: the edit if there is one, else the talk's. */
  text(name: string, file?: string): string {
    const program = this.require(name);
    const path = file ?? program.main;
    const key = `${PREFIX}${name}:${path}`;
    return this.memory.get(key) ?? storage()?.getItem(key) ?? program.files[path] ?? "";
  }

  edited(name: string, file?: string): boolean {
    return this.text(name, file) !== this.original(name, file);
  }

  /** Called after every change of a file's text (edits, resets): the room publishes the presenter's. */
  onChange(listener: (name: string, file: string, text: string) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  set(name: string, file: string, text: string): void {
    this.store(name, file, text);
    for (const listener of this.listeners) listener(name, file, text);
  }

  private store(name: string, file: string, text: string): void {
    const key = `${PREFIX}${name}:${file}`;
    if (text === this.original(name, file)) {
      this.memory.delete(key);
      storage()?.removeItem(key);
      return;
    }
    this.memory.set(key, text);
    try {
      storage()?.setItem(key, text);
    } catch {
      // quota or blocked: the in-memory copy still holds the edit
    }
  }

  reset(name: string, file?: string): string {
    const program = this.require(name);
    const path = file ?? program.main;
    this.set(name, path, program.files[path] ?? "");
    return this.text(name, path);
  }

  /** The program with every edit applied. */
  program(name: string): Program {
    const program = this.require(name);
    const files: Record<string, string> = {};
    for (const path of Object.keys(program.files)) files[path] = this.text(name, path);
    return { name: program.name, main: program.main, files };
  }

  private require(name: string): Program {
    const program = this.catalog[name];
    if (!program) throw new Error(`no example named "${name}"`);
    return program;
  }
}
