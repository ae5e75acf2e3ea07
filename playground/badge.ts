/**
 * The engine badge, bottom left: quiet while the demos can run, loud when they cannot.
 *
 * Working, it is a small label ("in-page ●"); why that engine runs shows on hover, on keyboard
 * focus, or on a click (a click switches engines instead when both are available). When no
 * engine can run the demos (the in-page worker failed to load and no WebContainer took over),
 * it says so at once, in full, in the deck's warning colour.
 */
import type { EngineManager } from "./engines.js";

export function mountBadge(manager: EngineManager): HTMLElement {
  const badge = document.createElement("button");
  badge.type = "button";
  badge.className = "playground-badge";
  const label = document.createElement("span");
  label.className = "playground-badge-engine";
  const reason = document.createElement("span");
  reason.className = "playground-badge-reason";
  badge.append(label, reason);
  let broken: string | null = null;
  const render = () => {
    const s = manager.status();
    badge.dataset.engine = s.kind;
    const down = broken !== null && s.kind === "inpage";
    badge.dataset.state = down ? "down" : "ok";
    label.textContent = s.kind === "webcontainer" ? "WebContainer" : "in-page";
    // The full text stays the badge's text (and accessible name): "<engine> · <why>".
    reason.textContent = down ? ` · live demos cannot run: ${broken}` : ` · ${s.reason}`;
    badge.title = s.canSwitch ? "Click to switch engines" : down ? "No engine can run the live demos" : "Click for details";
  };
  badge.addEventListener("click", () => {
    if (manager.status().canSwitch) void manager.toggle().catch(() => {});
    else badge.toggleAttribute("data-open");
  });
  manager.onChange(render);
  // The in-page engine is the fallback for everything: if its worker cannot load, nothing runs.
  manager.inPage.warm().then(
    () => {},
    (error: unknown) => {
      broken = (error as Error)?.message ?? String(error);
      render();
    },
  );
  render();
  document.body.append(badge);
  return badge;
}
