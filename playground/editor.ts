/**
 * Monaco on the code slides: TypeScript with IntelliSense for our runtime, run on Ctrl/Cmd+Enter.
 *
 * Loaded only after the first slide is shown (this module is imported dynamically). Pitfalls
 * of editors inside reveal's scaled slides, and what is done about them (live-deck-notes §5, §9):
 * - hovers and suggestions: `fixedOverflowWidgets` with `overflowWidgetsDomNode` on <body>,
 *   so they escape the transformed, overflow-clipped slide;
 * - clicks: Monaco divides mouse positions by the ratio of its bounding box to its offset size,
 *   which is reveal's scale, so clicks land on the right character (e2e tests check it);
 * - keys: `editContext: false` keeps a real textarea focused (reveal ignores keys typed into
 *   it), and the deck's keyboardCondition skips `.monaco-editor`;
 * - size: `automaticLayout` plus `layout()` on slide changes (hidden slides have no size).
 */
import * as monaco from "monaco-editor/editor";
import "monaco-editor/features/register.all";
import "monaco-editor/languages/definitions/typescript/register";
import "monaco-editor/languages/definitions/html/register";
import {
  getTypeScriptWorker,
  ModuleKind,
  ModuleResolutionKind,
  ScriptTarget,
  typescriptDefaults,
} from "monaco-editor/languages/features/typescript/register";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import TsWorker from "monaco-editor/language/typescript/ts.worker?worker";
import { codeFontSize, codeLineHeight, onLayoutFlip } from "./sizes.js";

export type Monaco = typeof monaco;

(globalThis as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  getWorker(_id: string, label: string) {
    return label === "typescript" || label === "javascript" ? new TsWorker() : new EditorWorker();
  },
};

let overflowHost: HTMLElement | null = null;
function overflowWidgetsHost(): HTMLElement {
  if (!overflowHost) {
    overflowHost = document.createElement("div");
    // Monaco's widget styles are scoped under .monaco-editor.
    overflowHost.className = "monaco-editor playground-overflow-widgets";
    document.body.append(overflowHost);
  }
  return overflowHost;
}

let typesReady = false;
/** Feed the runtime's sources to the TypeScript worker so `tornado/web` resolves with types. */
export function setupTypes(runtimeSources: Record<string, string>): void {
  if (typesReady) return;
  typesReady = true;
  typescriptDefaults.setCompilerOptions({
    target: ScriptTarget.ESNext,
    module: ModuleKind.ESNext,
    moduleResolution: ModuleResolutionKind.NodeJs,
    baseUrl: "file:///",
    paths: {
      "tornado/*": ["node_modules/tornado/*"],
      "#platform": ["node_modules/tornado/platform/memory.ts"],
    },
    strict: true,
    noEmit: true,
    allowNonTsExtensions: true,
    // The programs run in a worker (or in Node), not in a page: lib.webworker (0.8 MB) instead
    // of lib.dom (2.3 MB), the largest file the TypeScript worker parsed before its first answer.
    lib: ["es2022", "webworker"],
  });
  for (const [path, source] of Object.entries(runtimeSources)) {
    if (!path.endsWith(".ts")) continue;
    typescriptDefaults.addExtraLib(source, `file:///node_modules/tornado/${path}`);
  }
}

/** Resolves once the TypeScript worker has checked `model` (hovers and suggestions answer at once then). */
async function typesChecked(model: monaco.editor.ITextModel): Promise<unknown> {
  // Monaco registers its TypeScript support when it first meets a TypeScript model, from a
  // chunk it loads then; until that has run, getTypeScriptWorker() rejects ("not registered").
  let worker: Awaited<ReturnType<typeof getTypeScriptWorker>> | null = null;
  for (let waited = 0; !worker; waited += 100) {
    worker = await getTypeScriptWorker().catch((error: unknown) => {
      if (waited >= 60_000) throw error;
      return new Promise<null>((done) => setTimeout(() => done(null), 100));
    });
  }
  const client = await worker(model.uri);
  return client.getSemanticDiagnostics(model.uri.toString());
}

export interface EditorOptions {
  /** Model URI path, e.g. "examples/hello.ts"; editors of the same file share one model. */
  path: string;
  value: string;
  onRun(): void;
  onChange(value: string): void;
}

export interface EditorHandle {
  editor: monaco.editor.IStandaloneCodeEditor;
  model: monaco.editor.ITextModel;
  /** Show (or clear, with null) a compile error at its line. */
  setError(error: { line: number; column: number; message: string } | null): void;
  layout(): void;
  dispose(): void;
}

/**
 * vs-dark with comments lifted to 4.5:1 against the editor's background (vs-dark's #608b4e is
 * 4.2:1, below WCAG AA, and the demos' programs explain themselves in comments).
 */
let themeDefined = false;
function deckTheme(): string {
  if (!themeDefined) {
    monaco.editor.defineTheme("deck-dark", { base: "vs-dark", inherit: true, rules: [{ token: "comment", foreground: "7fa66b" }], colors: {} });
    themeDefined = true;
  }
  return "deck-dark";
}

export function createEditor(host: HTMLElement, options: EditorOptions): EditorHandle {
  const uri = monaco.Uri.parse(`file:///${options.path}`);
  const language = options.path.endsWith(".html") ? "html" : "typescript";
  const model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(options.value, language, uri);
  const editor = monaco.editor.create(host, {
    model,
    theme: deckTheme(),
    fontSize: codeFontSize(),
    lineHeight: codeLineHeight(),
    minimap: { enabled: false },
    scrollBeyondLastLine: false,
    automaticLayout: true,
    fixedOverflowWidgets: true,
    overflowWidgetsDomNode: overflowWidgetsHost(),
    editContext: false,
    tabSize: 2,
    renderLineHighlight: "line",
    lineNumbersMinChars: 2,
    padding: { top: 6, bottom: 6 },
    scrollbar: { alwaysConsumeMouseWheel: false },
    ariaLabel: `${options.path} (Ctrl+Enter runs it)`,
    // The last line number at full contrast (the dimmed one fails WCAG contrast).
    renderFinalNewline: "on",
    // Code keeps its readable size (sizes.ts): a line too long for the slide wraps instead.
    wordWrap: "on",
    wrappingIndent: "indent",
  });
  // Monaco's canvases (minimap, overview ruler) draw what the editor's text already says: they
  // are surfaces, not pictures, so assistive technology skips them.
  const hideCanvases = () => host.querySelectorAll("canvas:not([aria-hidden])").forEach((c) => c.setAttribute("aria-hidden", "true"));
  hideCanvases();
  editor.onDidLayoutChange(hideCanvases);
  // The sizes follow the deck's layout, which flips when a phone turns.
  const stopWatching = onLayoutFlip(() => editor.updateOptions({ fontSize: codeFontSize(), lineHeight: codeLineHeight() }));
  editor.onDidDispose(stopWatching);
  // Ctrl/Cmd+Enter runs, even while a suggestion or parameter hint is open (their own
  // keybindings would otherwise take the key): caught on the editor's own element, first.
  host.addEventListener(
    "keydown",
    (event) => {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
      event.preventDefault();
      event.stopPropagation();
      editor.trigger("playground", "hideSuggestWidget", null);
      options.onRun();
    },
    true,
  );
  // `data-types` on the editor's host: "loading" until the TypeScript worker has checked this
  // file (types on hover, suggestions), then "ready"; HTML files have no types to wait for.
  if (language === "typescript") {
    host.dataset.types = "loading";
    typesChecked(model).then(
      () => (host.dataset.types = "ready"),
      () => (host.dataset.types = "failed"),
    );
  }
  // Escape gives the keyboard back to the deck (Monaco would keep the focus forever), unless a
  // widget of the editor is open: then Escape is Monaco's, and closes it.
  editor.addCommand(
    monaco.KeyCode.Escape,
    () => leaveEditor(host),
    "!suggestWidgetVisible && !findWidgetVisible && !parameterHintsVisible && !renameInputVisible && !editorHoverVisible && " +
      "!markersNavigationVisible && !inSnippetMode && !editorHasMultipleSelections && !accessibilityHelpWidgetVisible",
  );
  const changes = model.onDidChangeContent(() => options.onChange(model.getValue()));
  return {
    editor,
    model,
    setError(error) {
      monaco.editor.setModelMarkers(
        model,
        "playground",
        error
          ? [
              {
                severity: monaco.MarkerSeverity.Error,
                message: error.message,
                startLineNumber: error.line,
                startColumn: error.column,
                endLineNumber: error.line,
                endColumn: error.column + 1,
              },
            ]
          : [],
      );
    },
    layout: () => editor.layout(),
    dispose() {
      changes.dispose();
      editor.dispose();
    },
  };
}

/**
 * Move the focus from an editor to the block around it (focusable, outside the editor), so
 * reveal's keys work again and Tab continues from there.
 */
export function leaveEditor(host: HTMLElement): void {
  const block = (host.closest<HTMLElement>(".code-ts, section") ?? document.body) as HTMLElement;
  if (!block.hasAttribute("tabindex")) block.tabIndex = -1;
  block.focus({ preventScroll: true });
}

/** Re-measure fonts once web fonts are in (Monaco caches glyph widths). */
export function remeasureFontsWhenReady(): void {
  void document.fonts?.ready.then(() => monaco.editor.remeasureFonts());
}

export { monaco };
