// questlab: small enhancements shared by every page. Pages read fine without this file.
(function () {
  "use strict";
  function codeOf(figure) {
    var editor = figure.querySelector("textarea.code-editor");
    if (editor) return editor.value;
    var code = figure.querySelector("pre code");
    return code ? code.textContent : "";
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var figure = button.closest(".code-block");
    var original = button.textContent;
    var done = function () {
      button.textContent = "✓";
      setTimeout(function () { button.textContent = original; }, 1200);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(codeOf(figure)).then(done, function () {});
    }
  });
  window.questlab = window.questlab || {};
  window.questlab.codeOf = codeOf;
})();
