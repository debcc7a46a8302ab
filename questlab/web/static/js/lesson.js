// questlab lesson page: Run buttons on runnable code blocks, editable code, output panels
// with stdout, stderr, images, the module explorer and the time taken.
// Learner output is always inserted as text, never as HTML.
(function () {
  "use strict";
  var strings = document.getElementById("ui-strings");
  function t(name) { return (strings && strings.dataset[name]) || name; }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)questlab_csrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function moduleTree(tree) {
    var details = el("details", "module-node");
    details.open = true;
    var summary = el("summary");
    summary.appendChild(el("strong", null, tree.name));
    summary.appendChild(document.createTextNode(" " + tree["class"] + " "));
    summary.appendChild(el("span", "params", "(" + Number(tree.params).toLocaleString() + " " + t("params") + ")"));
    details.appendChild(summary);
    var list = el("ul");
    (tree.parameters || []).forEach(function (p) {
      list.appendChild(el("li", "params", p.name + " " + JSON.stringify(p.shape) + " = " + Number(p.numel).toLocaleString()));
    });
    (tree.children || []).forEach(function (child) {
      var item = el("li");
      item.appendChild(moduleTree(child));
      list.appendChild(item);
    });
    details.appendChild(list);
    return details;
  }

  function showResult(panel, result) {
    panel.hidden = false;
    panel.replaceChildren();
    var ok = result.status === "ok";
    var status = el("p", "run-status" + (ok ? "" : " bad"));
    var label = ok ? t("ok") : (result.message || result.status);
    status.textContent = label + (result.duration_ms !== undefined ? " · " + Math.round(result.duration_ms) + " ms" : "");
    status.setAttribute("data-run-status", result.status);
    panel.appendChild(status);
    if (result.stdout) panel.appendChild(el("pre", "stdout", result.stdout));
    if (result.traceback) panel.appendChild(el("pre", "stderr", result.traceback));
    else if (result.stderr) panel.appendChild(el("pre", "stderr", result.stderr));
    if (result.truncated) panel.appendChild(el("p", "run-status bad", t("truncated")));
    (result.images || []).forEach(function (image) {
      var img = el("img");
      img.alt = t("figure");
      img.src = "data:image/png;base64," + image.data;
      panel.appendChild(img);
    });
    if (result.modules && result.modules.length) {
      var explorer = el("div", "module-tree");
      explorer.setAttribute("data-module-explorer", "");
      explorer.appendChild(el("p", "output-label", t("modules")));
      result.modules.forEach(function (tree) { explorer.appendChild(moduleTree(tree)); });
      panel.appendChild(explorer);
    }
  }

  // The exercise editor (exercise.js) renders its runs through the same function.
  window.questlab = window.questlab || {};
  window.questlab.showRunResult = showResult;

  function makeEditable(figure) {
    if (figure.querySelector("textarea.code-editor")) return;
    var pre = figure.querySelector("pre.highlight");
    var source = pre.textContent;
    var editor = el("textarea", "code-editor");
    editor.value = source;
    editor.spellcheck = false;
    editor.setAttribute("aria-label", t("editor"));
    editor.rows = Math.min(30, source.split("\n").length + 1);
    editor.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        run(figure);
      } else if (event.key === "Escape" && window.questlab.focusAfter) {  // Tab indents here
        event.preventDefault();
        window.questlab.focusAfter(editor);
      } else if (event.key === "Tab" && !event.shiftKey) {
        event.preventDefault();
        var start = editor.selectionStart;
        editor.setRangeText("    ", start, editor.selectionEnd, "end");
      }
    });
    figure.dataset.original = source;
    pre.hidden = true;
    pre.after(editor);
    var reset = figure.querySelector("[data-reset]");
    if (reset) reset.hidden = false;
  }

  // "quest/chapter/lesson" of this page: the lesson's `requires` picks the runner for its runs.
  function lessonKey() {
    var article = document.querySelector("article.lesson[data-lesson-key]");
    return article ? article.getAttribute("data-quest") + "/" + article.getAttribute("data-lesson-key") : null;
  }

  function run(figure) {
    makeEditable(figure);
    var button = figure.querySelector("[data-run]");
    var panel = figure.querySelector(".run-output");
    var code = figure.querySelector("textarea.code-editor").value;
    if (button.getAttribute("aria-disabled") === "true") return;  // running already
    // Not disabled: a disabled button drops the keyboard focus, and the learner's place with it.
    button.setAttribute("aria-disabled", "true");
    button.textContent = t("running");
    panel.hidden = false;
    fetch("/api/run", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ code: code, lesson: lessonKey() }),
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) { return body; }, function () {
        return { status: "error", message: t("failed") + " (HTTP " + response.status + ")" };
      });
    }).then(function (result) {
      showResult(panel, result);
      if (result.version) document.dispatchEvent(new CustomEvent("questlab:code-run", { detail: result }));
    }, function () {
      showResult(panel, { status: "error", message: t("failed") });
    }).finally(function () {
      button.removeAttribute("aria-disabled");
      button.textContent = t("run");
    });
  }

  document.querySelectorAll("figure.code-block[data-runnable]").forEach(function (figure) {
    var button = figure.querySelector("[data-run]");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () { run(figure); });
    var reset = figure.querySelector("[data-reset]");
    reset.addEventListener("click", function () {
      var editor = figure.querySelector("textarea.code-editor");
      if (editor) editor.value = figure.dataset.original;
    });
    figure.querySelector("pre.highlight").addEventListener("dblclick", function () { makeEditable(figure); });
  });
})();
