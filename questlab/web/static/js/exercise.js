// questlab exercise: editor, Run, Submit with a results panel, hints one at a time, the
// signed-in learner's submission history and synced draft,
// reset to starter, and a draft kept in this browser. A pass shows the link to the next
// lesson (progress.js completes the lesson). Without this file the page
// still shows the prompt, the starter code and every hint.
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)questlab_csrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    });
  }

  function postJSON(url, body, method) {
    return fetch(url, {
      method: method || "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  // Code copied from web pages often carries no-break spaces, which Python rejects.
  function codeOf(editor) { return editor.getValue().replace(/\u00a0/g, " "); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  // Grading messages mark code with backticks: `nn.ModuleList` becomes a <code> element.
  // Built with text nodes only, never HTML, so a learner's names stay inert.
  function withCode(node, text) {
    String(text).split(/`([^`\n]+)`/).forEach(function (part, index) {
      if (!part) return;
      node.appendChild(index % 2 ? el("code", null, part) : document.createTextNode(part));
    });
    return node;
  }

  function setup(section) {
    var label = function (name) { return section.getAttribute("data-label-" + name) || name; };
    var mount = section.querySelector("[data-exercise-editor]");
    var starterField = section.querySelector("[data-starter]");
    var starter = starterField ? starterField.value : (mount.textContent || "");
    var article = section.closest("[data-quest]");
    var draftKey = "questlab:draft:" + (article ? article.getAttribute("data-quest") + "/" +
      article.getAttribute("data-lesson-key") : location.pathname);
    var status = section.querySelector("[data-exercise-status]");
    var runOutput = section.querySelector("[data-run-output]");
    var results = section.querySelector("[data-results]");
    var nextStep = section.querySelector("[data-next-step]");
    var busy = false;

    var signedIn = document.body.getAttribute("data-signed-in") === "1";
    var saved = null, savedAt = null;
    try {
      saved = localStorage.getItem(draftKey);
      savedAt = localStorage.getItem(draftKey + ":at");
    } catch (e) { saved = null; }

    var editor;
    var pushTimer = null;
    // A signed-in learner's draft also goes to the server (debounced), so it follows them to
    // another device; the browser's copy stays for offline use.
    function pushDraft(text) {
      if (!signedIn || !section.getAttribute("data-draft-url")) return;
      clearTimeout(pushTimer);
      pushTimer = setTimeout(function () {
        postJSON(section.getAttribute("data-draft-url"), { code: text }, "PUT").catch(function () {});
      }, 1500);
    }
    function saveDraft(text) {
      try {
        if (text === starter) { localStorage.removeItem(draftKey); localStorage.removeItem(draftKey + ":at"); }
        else { localStorage.setItem(draftKey, text); localStorage.setItem(draftKey + ":at", new Date().toISOString()); }
      } catch (e) { /* storage full or disabled: the draft just is not kept */ }
      pushDraft(text);
    }
    if (window.QuestlabEditor && window.QuestlabEditor.create) {
      mount.textContent = "";
      editor = window.QuestlabEditor.create(mount, {
        doc: saved != null ? saved : starter,
        label: label("editor"),
        onChange: saveDraft,
        onRun: function () { run(); },
      });
    } else {  // the bundle did not load: a plain textarea still works
      var area = el("textarea", "code-editor");
      area.value = saved != null ? saved : starter;
      area.spellcheck = false;
      area.setAttribute("aria-label", label("editor"));
      mount.textContent = "";
      mount.appendChild(area);
      area.addEventListener("input", function () { saveDraft(area.value); });
      area.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); }
      });
      editor = { getValue: function () { return area.value; },
                 setValue: function (t) { area.value = t; }, focus: function () { area.focus(); } };
    }
    mount.classList.add("is-live");
    section.querySelector("[data-exercise-actions]").hidden = false;

    // Tab indents inside the editor, so Escape is the way out: focus moves on to the next control
    // (Run). Escape still does its editor work first when there is some to see: it closes an open
    // completion list or search panel, and collapses a selection.
    mount.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !(window.questlab && window.questlab.focusAfter)) return;
      var host = mount.querySelector(".code-editor-host");
      if (host && host.shadowRoot && host.shadowRoot.querySelector(".cm-tooltip-autocomplete, .cm-search")) return;
      var selection = editor.view && editor.view.state.selection;
      if (selection && (selection.ranges.length > 1 || !selection.main.empty)) return;
      event.preventDefault();
      event.stopPropagation();
      window.questlab.focusAfter(mount);
    }, true);

    // The server's draft wins when it is newer than this browser's (written on another device).
    if (signedIn && section.getAttribute("data-draft-url")) {
      getJSON(section.getAttribute("data-draft-url")).then(function (data) {
        var draft = data && data.draft;
        if (!draft || draft.code === codeOf(editor)) return;
        if (!savedAt || new Date(draft.updated_at + (/[zZ]|[+-]\d\d:?\d\d$/.test(draft.updated_at) ? "" : "Z")) > new Date(savedAt)) {
          editor.setValue(draft.code);
          try {
            localStorage.setItem(draftKey, draft.code);
            localStorage.setItem(draftKey + ":at", new Date().toISOString());
          } catch (e) { /* not kept locally */ }
        }
      }).catch(function () { /* offline: the browser's draft stays */ });
    }

    function start(text) { busy = true; status.textContent = text; section.classList.add("is-busy"); }
    function stop(text) { busy = false; status.textContent = text || ""; section.classList.remove("is-busy"); }

    // A run renders exactly like a lesson block's (lesson.js): status and time, stdout,
    // traceback, images and the module explorer.
    function showRun(data) {
      if (window.questlab && window.questlab.showRunResult) {
        window.questlab.showRunResult(runOutput, data);
        return;
      }
      runOutput.textContent = [data.stdout, data.traceback || data.stderr, data.message]
        .filter(Boolean).join("\n") || label("no-output");
      runOutput.hidden = false;
    }

    function run() {
      if (busy) return;
      start(label("running"));
      var article = document.querySelector("article.lesson[data-lesson-key]");
      var lessonKey = article ? article.getAttribute("data-quest") + "/" + article.getAttribute("data-lesson-key") : null;
      postJSON("/api/run", { code: codeOf(editor), lesson: lessonKey }).then(function (reply) {
        var data = reply.data || {};
        if (!data.status) {  // a refusal without a run result (503 runner off, 422 too long)
          var detail = typeof data.detail === "string" ? data.detail : null;
          data = { status: "error", message: data.message || detail || label("error") };
        }
        showRun(data);
        runOutput.classList.toggle("is-error", data.status !== "ok" || reply.status >= 400);
        if (reply.status === 200) document.dispatchEvent(new CustomEvent("questlab:code-run", { detail: data }));
        stop("");
      }, function () { stop(label("network")); });
    }

    function showResults(data) {
      if (nextStep && nextStep.parentNode === results) results.after(nextStep);  // back to its place
      results.textContent = "";
      var head = el("p", "results-summary results-" + (data.status || "error"));
      if (data.status === "pass") head.textContent = label("all-pass");
      else if (data.status === "fail") head.textContent = label("some-fail");
      else head.textContent = data.message || data.detail || label("error");
      if (data.xp_awarded) {
        var badge = el("strong", "xp-badge", " " + label("xp").replace("{xp}", data.xp_awarded));
        badge.setAttribute("data-xp-badge", "");
        head.appendChild(badge);
      }
      results.appendChild(head);
      if (data.status === "error" && data.message && data.tests && data.tests.length) {
        results.appendChild(el("pre", "results-error", data.message));
      }
      var list = el("ol", "check-list");
      (data.tests || []).forEach(function (test) {
        var item = el("li", "check check-" + test.status);
        item.setAttribute("data-check", test.name);
        var line = el("div", "check-head");
        line.appendChild(el("span", "check-status", test.status === "pass" ? "✓ " + label("pass")
          : "✗ " + label(test.status === "fail" ? "fail" : "error")));
        line.appendChild(el("code", "check-name", test.name));
        item.appendChild(line);
        if (test.message) item.appendChild(withCode(el("p", "check-message"), test.message));
        if (test.output && test.status !== "pass") item.appendChild(el("pre", "check-output", test.output));
        list.appendChild(item);
      });
      results.appendChild(list);
      results.hidden = false;
      if (data.status === "pass") {
        if (hintButton) hintButton.hidden = true;  // every check passed: nothing left to hint at
        if (nextStep) {  // right under "All checks passed!", where the learner looks
          head.after(nextStep);
          nextStep.hidden = false;
          var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
          nextStep.scrollIntoView({ block: "nearest", behavior: still ? "auto" : "smooth" });
        }
        // progress.js keeps a visitor's completion token and the lesson's completion, and re-scores
        // (a signed-in pass and completion are already stored)
        document.dispatchEvent(new CustomEvent("questlab:exercise-passed", { detail: data }));
      }
    }
    // The XP the pass really added to the strip (the lesson and the day's first activity included).
    document.addEventListener("questlab:progress-scored", function (event) {
      var badge = results.querySelector("[data-xp-badge]");
      var detail = event.detail || {};
      if (badge && detail.reason === "pass" && detail.xp_gained > 0) {
        badge.textContent = " " + label("xp").replace("{xp}", detail.xp_gained);
      }
      // Re-scoring changes the page above (the strip, the chapter's done marks): keep "Next
      // lesson" in view once the layout has settled.
      if (detail.reason === "pass" && nextStep && !nextStep.hidden) {
        window.requestAnimationFrame(function () {
          var box = nextStep.getBoundingClientRect();
          if (box.top < 0 || box.bottom > window.innerHeight) nextStep.scrollIntoView({ block: "nearest" });
        });
      }
    });

    function submit() {
      if (busy) return;
      start(label("grading"));
      // The new results replace what an earlier Run printed, which would sit above them.
      runOutput.hidden = true;
      runOutput.textContent = "";
      runOutput.classList.remove("is-error");
      postJSON(section.getAttribute("data-submit-url"), {
        code: codeOf(editor), locale: section.getAttribute("data-locale"),
      }).then(function (reply) {
        showResults(reply.data || {});
        stop("");
        if (historyBox && historyBox.open) loadHistory();
      }, function () { stop(label("network")); });
    }

    // The signed-in learner's earlier submissions: what each got, and opening one into the editor.
    var historyBox = section.querySelector("[data-history]");
    var historyList = section.querySelector("[data-history-list]");
    function when(iso) {
      var date = new Date(iso + (/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? "" : "Z"));
      return isNaN(date) ? iso : date.toLocaleString(section.getAttribute("data-locale") || undefined);
    }
    function loadHistory() {
      getJSON(section.getAttribute("data-history-url")).then(function (data) {
        historyList.textContent = "";
        var items = (data && data.submissions) || [];
        if (!items.length) historyList.appendChild(el("li", "history-empty", label("no-history")));
        items.forEach(function (item) {
          var row = el("li", "history-item history-" + item.status);
          row.setAttribute("data-submission", item.id);
          row.appendChild(el("time", null, when(item.created_at)));
          row.appendChild(el("span", "history-status", " " + (item.status === "pass" ? "✓ " : "✗ ") + label(item.status) + " "));
          row.appendChild(el("span", "history-checks", label("checks").replace("{passed}", item.passed).replace("{total}", item.total)));
          if (item.diagnoses && item.diagnoses.length) row.appendChild(el("code", "history-diagnosis", item.diagnoses.join(", ")));
          if (item.regraded) row.appendChild(el("span", "history-regraded", label("regraded")));
          var open = el("button", "btn btn-small", label("open"));
          open.type = "button";
          open.setAttribute("data-open-submission", item.id);
          row.appendChild(open);
          historyList.appendChild(row);
        });
      }).catch(function () { historyList.textContent = label("network"); });
    }
    if (historyBox) {
      historyBox.addEventListener("toggle", function () { if (historyBox.open) loadHistory(); });
      historyList.addEventListener("click", function (event) {
        var button = event.target.closest("[data-open-submission]");
        if (!button) return;
        getJSON("/api/submissions/" + button.getAttribute("data-open-submission")).then(function (found) {
          editor.setValue(found.code);
          saveDraft(found.code);
          showResults(found.results || {});
          status.textContent = label("opened").replace("{when}", when(found.created_at));
        }).catch(function () { status.textContent = label("network"); });
      });
    }

    section.addEventListener("click", function (event) {
      var button = event.target.closest("[data-action]");
      if (!button) return;
      var action = button.getAttribute("data-action");
      if (action === "run") run();
      else if (action === "submit") submit();
      else if (action === "reset") { editor.setValue(starter); saveDraft(starter); editor.focus(); }
      else if (action === "next-hint") revealNextHint();
    });

    // Hints one at a time: only the first closed one can be opened, through the button.
    var hints = Array.prototype.slice.call(section.querySelectorAll("[data-hint]"));
    var hintButton = section.querySelector("[data-action='next-hint']");
    function revealNextHint() {
      var next = hints.filter(function (h) { return h.hidden; })[0];
      if (next) { next.hidden = false; next.open = true; }
      if (hintButton) hintButton.hidden = !hints.some(function (h) { return h.hidden; });
    }
    if (hints.length && hintButton) {
      hints.forEach(function (h) { h.hidden = true; });
      hintButton.hidden = false;
    }
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-exercise]"), setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
