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

  // A box that scrolls must take keyboard focus, or keyboard users cannot scroll it: code, outputs
  // and grading output that overflow get tabindex="0" while they overflow (on load, on resize, and
  // whenever scripts add content).
  var SCROLLERS = "pre, .run-output";
  function scrolls(el) {
    var style = getComputedStyle(el);
    var across = /auto|scroll/.test(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
    var down = /auto|scroll/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
    return across || down;
  }
  function keyboardScroll() {
    document.querySelectorAll(SCROLLERS).forEach(function (el) {
      if (el.hasAttribute("tabindex") && !el.hasAttribute("data-scroll-focus")) return;
      if (scrolls(el)) {
        el.tabIndex = 0;
        el.setAttribute("data-scroll-focus", "");
      } else if (el.hasAttribute("data-scroll-focus")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-scroll-focus");
      }
    });
  }
  var pending = false;
  function later() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; keyboardScroll(); });
  }
  keyboardScroll();
  window.addEventListener("resize", later);
  if (window.MutationObserver) new MutationObserver(later).observe(document.body, { childList: true, subtree: true });

  // Editors keep Tab for indenting, so Escape leaves them: focus moves to the first control after
  // the editor in the page's order (lesson.js, exercise.js).
  var FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";
  function focusAfter(el) {
    var all = document.querySelectorAll(FOCUSABLE);
    for (var i = 0; i < all.length; i++) {
      var next = all[i];
      if (el.contains(next) || !(el.compareDocumentPosition(next) & Node.DOCUMENT_POSITION_FOLLOWING)) continue;
      if (next.disabled || next.tabIndex < 0 || next.closest("[hidden]") || !next.getClientRects().length) continue;
      next.focus();
      return next;
    }
    return null;
  }

  window.questlab = window.questlab || {};
  window.questlab.codeOf = codeOf;
  window.questlab.focusAfter = focusAfter;
})();
