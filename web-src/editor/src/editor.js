// The exercise editor: CodeMirror 6 with Python highlighting and indentation.
// Exposes window.QuestlabEditor.create(parent, {doc, onChange, onRun, label}).
import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { EditorState, Prec } from "@codemirror/state";
import { indentWithTab } from "@codemirror/commands";
import { indentUnit } from "@codemirror/language";
import { python } from "@codemirror/lang-python";

// The editor lives in a shadow root: CodeMirror then uses constructed style sheets
// instead of <style> elements, which the site's Content-Security-Policy (no inline
// styles) would block. The page's CSS custom properties still reach inside.
const theme = EditorView.theme({
  "&": { backgroundColor: "var(--code-bg, #f6f8fa)", color: "var(--text, #1f2328)", fontSize: "14px" },
  ".cm-content": { fontFamily: "var(--mono, ui-monospace, monospace)", caretColor: "var(--accent, #e8590c)" },
  ".cm-gutters": { backgroundColor: "var(--surface-2, #f3f1ec)", color: "var(--muted, #5c636e)",
                   borderRight: "1px solid var(--border, #e3dfd6)" },
  ".cm-activeLine, .cm-activeLineGutter": { backgroundColor: "color-mix(in srgb, var(--accent, #e8590c) 8%, transparent)" },
  "&.cm-focused": { outline: "2px solid var(--accent, #e8590c)" },
  ".cm-scroller": { minHeight: "12rem", maxHeight: "36rem" },
});

export function create(parent, options) {
  const opts = options || {};
  const host = document.createElement("div");
  host.className = "code-editor-host";
  parent.appendChild(host);
  const shadow = host.attachShadow({ mode: "open" });
  const mount = document.createElement("div");
  shadow.appendChild(mount);
  const runKeys = Prec.highest(keymap.of([
    { key: "Mod-Enter", run: () => { if (opts.onRun) opts.onRun(); return true; } },
  ]));
  const view = new EditorView({
    parent: mount,
    root: shadow,
    state: EditorState.create({
      doc: opts.doc || "",
      extensions: [
        runKeys,
        basicSetup,
        theme,
        keymap.of([indentWithTab]),
        python(),
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        EditorView.contentAttributes.of({ "aria-label": opts.label || "Code editor" }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && opts.onChange) opts.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    getValue: () => view.state.doc.toString(),
    setValue: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    focus: () => view.focus(),
  };
}
