/**
 * The slice of the WebContainer API our engine uses, as an interface.
 *
 * `@webcontainer/api`'s `WebContainer` satisfies it structurally (checked at compile time
 * below), and so does the Node-backed implementation in `node-backed.ts`, which runs the same
 * engine code against real files and real `node` processes so that everything but
 * `WebContainer.boot()` itself is exercised on machines that cannot reach StackBlitz.
 */
import type { FileSystemTree, WebContainer } from "@webcontainer/api";

export type { FileSystemTree };

export interface ContainerProcess {
  /** Exit code; resolves once the process is gone. */
  exit: Promise<number>;
  /** stdout + stderr merged, as the WebContainer's PTY stream delivers them. */
  output: ReadableStream<string>;
  /** What is typed into the process (its terminal's input). */
  input: WritableStream<string>;
  kill(): void;
}

export interface ContainerSpawnOptions {
  cwd?: string;
  env?: Record<string, string | number | boolean>;
  output?: boolean;
}

export type PortListener = (port: number, type: "open" | "close", url: string) => void;
export type ErrorListener = (error: { message: string }) => void;

export interface Container {
  readonly workdir: string;
  mount(tree: FileSystemTree, options?: { mountPoint?: string }): Promise<void>;
  spawn(command: string, args: string[], options?: ContainerSpawnOptions): Promise<ContainerProcess>;
  on(event: "port", listener: PortListener): () => void;
  on(event: "error", listener: ErrorListener): () => void;
  fs: {
    mkdir(path: string, options: { recursive: true }): Promise<string>;
    rm(path: string, options?: { force?: boolean; recursive?: boolean }): Promise<void>;
    writeFile(path: string, data: string | Uint8Array): Promise<void>;
    readFile(path: string, encoding: "utf-8"): Promise<string>;
  };
}

/** Compile-time proof that the real WebContainer fits the interface the engine codes against. */
export function asContainer(wc: WebContainer): Container {
  return wc;
}
