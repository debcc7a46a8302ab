// The exercise editor: CodeMirror 6 with Python highlighting and indentation.
// Exposes window.QuestlabEditor.create(parent, {doc, onChange, onRun, label}).
import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { EditorState, Prec } from "@codemirror/state";
import { indentWithTab } from "@codemirror/commands";
import { indentUnit } from "@codemirror/language";
import { python } from "@codemirror/lang-python";

export function create(parent, options) {
  const opts = options || {};
  const runKeys = Prec.highest(keymap.of([
    { key: "Mod-Enter", run: () => { if (opts.onRun) opts.onRun(); return true; } },
  ]));
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: opts.doc || "",
      extensions: [
        runKeys,
        basicSetup,
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
