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
  ModuleKind,
  ModuleResolutionKind,
  ScriptTarget,
  typescriptDefaults,
} from "monaco-editor/languages/features/typescript/register";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import TsWorker from "monaco-editor/language/typescript/ts.worker?worker";

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
    lib: ["es2022", "dom"],
  });
  for (const [path, source] of Object.entries(runtimeSources)) {
    if (!path.endsWith(".ts")) continue;
    typescriptDefaults.addExtraLib(source, `file:///node_modules/tornado/${path}`);
  }
}

export interface EditorOptions {
  /** Model URI path, e.g. "examples/hello.ts"; editors of the same file share one model. */
  path: string;
  value: string;
  fontSize?: number;
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

function wrapMode(): "on" | "off" {
  return document.documentElement.classList.contains("portrait") ? "on" : "off";
}

export function createEditor(host: HTMLElement, options: EditorOptions): EditorHandle {
  const uri = monaco.Uri.parse(`file:///${options.path}`);
  const language = options.path.endsWith(".html") ? "html" : "typescript";
  const model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(options.value, language, uri);
  const editor = monaco.editor.create(host, {
    model,
    theme: "vs-dark",
    fontSize: options.fontSize ?? 15,
    lineHeight: Math.round((options.fontSize ?? 15) * 1.4),
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
    wordWrap: wrapMode(),
  });
  // On a phone (the deck's portrait layout) long lines wrap instead of running off the slide;
  // the layout can flip when the phone turns.
  const portraitWatch = new MutationObserver(() => editor.updateOptions({ wordWrap: wrapMode() }));
  portraitWatch.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
  editor.onDidDispose(() => portraitWatch.disconnect());
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

/** Re-measure fonts once web fonts are in (Monaco caches glyph widths). */
export function remeasureFontsWhenReady(): void {
  void document.fonts?.ready.then(() => monaco.editor.remeasureFonts());
}

export { monaco };
