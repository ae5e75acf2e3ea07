/**
 * Which engine runs the talk's programs, and why.
 *
 * The in-page engine is ready almost at once and works everywhere, so the deck starts with it.
 * When the page is cross-origin isolated, the WebContainer boots in the background; if it is
 * up within BOOT_TIMEOUT_MS and proves itself (proof.ts: hello's `curl -i` transcript equals a
 * fresh in-page engine's, Date aside) the deck switches to it, unless the presenter chose the
 * page. Every switch to the WebContainer goes through that proof, the presenter's click and
 * `?engine=webcontainer` included; a refused one leaves the deck in the page, the badge says why.
 * The badge says which engine runs and why; clicking it switches. `?engine=inpage` or
 * `?engine=webcontainer` pins the choice from the URL.
 */
import type { Engine, EngineKind } from "./engine.js";
import { examples } from "../slides/examples/catalog.js";
import { createInPageWorker, InPageEngine } from "./inpage/engine.js";
import { proveEngine, type Proof } from "./proof.js";
import { bootWebContainer, webContainerUnavailable } from "./webcontainer/boot.js";
import type { Container } from "./webcontainer/container.js";
import { WebContainerEngine } from "./webcontainer/engine.js";
import { loadRuntimeSources } from "./webcontainer/runtime-sources.js";

export const BOOT_TIMEOUT_MS = 8000;

export interface EngineStatus {
  kind: EngineKind;
  /** One line for the badge: what runs and why. */
  reason: string;
  /** Whether the other engine can be switched to. */
  canSwitch: boolean;
}

export class EngineManager {
  readonly inPage = new InPageEngine(createInPageWorker);
  private webContainer: WebContainerEngine | null = null;
  private webContainerProblem: string | null;
  private active: Engine;
  private pinned: EngineKind | null;
  private reason: string;
  private readonly listeners = new Set<(status: EngineStatus) => void>();
  /** Bumped on every switch, so slides know to restart their program. */
  generation = 0;
  /** The proof under way, so a click during the boot's proof does not start a second one. */
  private proving: Promise<Proof> | null = null;

  constructor(search: string = location.search) {
    const asked = new URLSearchParams(search).get("engine");
    this.pinned = asked === "inpage" || asked === "webcontainer" ? asked : null;
    this.webContainerProblem = webContainerUnavailable();
    this.active = this.inPage;
    this.reason = this.webContainerProblem
      ? `in the page: ${this.webContainerProblem}`
      : this.pinned === "inpage"
        ? "in the page: chosen with ?engine=inpage"
        : "in the page while the WebContainer boots";
    void this.inPage.warm().catch(() => {});
    if (!this.webContainerProblem && this.pinned !== "inpage") void this.boot();
  }

  private async boot(): Promise<void> {
    const booting = bootWebContainer();
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no boot within ${BOOT_TIMEOUT_MS / 1000} s (StackBlitz unreachable?)`)), BOOT_TIMEOUT_MS),
    );
    try {
      const container = await Promise.race([booting, timeout]);
      this.adopt(container);
      if (this.pinned !== "inpage") await this.use("webcontainer", "WebContainer: booted and proved, real Node in the page");
      else this.notify();
    } catch (error) {
      this.webContainerProblem = `WebContainer boot failed: ${(error as Error).message ?? String(error)}`;
      if (this.active === this.inPage) this.setReason(`in the page: ${this.webContainerProblem}`);
      // A boot that completes late is not switched to mid-talk, but the badge then offers it.
      booting.then(
        (container) => {
          this.adopt(container);
          this.webContainerProblem = null;
          this.notify();
        },
        () => {},
      );
    }
  }

  private adopt(container: Container): void {
    if (this.webContainer) return;
    container.on("error", (e) => this.setReason(`WebContainer error: ${e.message}`));
    this.webContainer = new WebContainerEngine(container, loadRuntimeSources);
  }

  get engine(): Engine {
    return this.active;
  }

  status(): EngineStatus {
    return { kind: this.active.kind, reason: this.reason, canSwitch: this.webContainer !== null };
  }

  onChange(listener: (status: EngineStatus) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private setReason(reason: string): void {
    this.reason = reason;
    this.notify();
  }

  private notify(): void {
    const s = this.status();
    for (const l of this.listeners) l(s);
  }

  /**
   * Run the hello program in the WebContainer and in a fresh in-page engine (its own worker, so
   * the slide running in the deck's engine is not disturbed) and compare their transcripts.
   */
  private prove(candidate: WebContainerEngine): Promise<Proof> {
    this.proving ??= (async () => {
      const reference = new InPageEngine(createInPageWorker);
      try {
        return await proveEngine(candidate, reference, examples.hello!);
      } catch (error) {
        return { ok: false as const, reason: `the check failed: ${(error as Error).message ?? String(error)}` };
      } finally {
        void reference.dispose().catch(() => {});
        this.proving = null;
      }
    })();
    return this.proving;
  }

  /**
   * Switch engines (the presenter's click); stops the program in the old one. The WebContainer
   * is only switched to once it proves itself; otherwise the deck stays in the page and the
   * reason says why.
   */
  async use(kind: EngineKind, reason?: string): Promise<void> {
    const next = kind === "webcontainer" ? this.webContainer : this.inPage;
    if (!next) throw new Error(this.webContainerProblem ?? "the WebContainer is not available");
    if (next === this.webContainer && next !== this.active) {
      this.setReason("in the page while the WebContainer proves itself (hello, curl -i)");
      const proof = await this.prove(next);
      if (!proof.ok) {
        if (this.active === this.inPage) this.setReason(`in the page: WebContainer refused, ${proof.reason}`);
        return;
      }
      if (this.active === next) return; // another switch got there during the proof
    }
    if (next !== this.active) {
      await this.active.stop().catch(() => {});
      this.active = next;
      this.generation++;
    }
    this.reason = reason ?? (kind === "webcontainer" ? "WebContainer: chosen by the presenter" : "in the page: chosen by the presenter");
    this.notify();
  }

  async toggle(): Promise<void> {
    this.pinned = this.active.kind === "inpage" ? "webcontainer" : "inpage";
    await this.use(this.pinned);
  }
}
