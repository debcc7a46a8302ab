// questlab progress: the status strip, "Mark this lesson as done", a pass completing its lesson,
// toasts (XP, level up, achievements), "Continue where you left off", local-first storage and sync.
//
// Without an account, progress is kept in localStorage in the shape POST /api/progress/sync takes
// (see docs/api.md) and scored by POST /api/progress/evaluate. Signed in, every change is synced at
// once; entries that could not be sent (offline) stay pending and go with the next page. The sign-up
// and sign-in forms carry the local record, so the server merges it before the first page.
(function () {
  "use strict";
  var KEY = "questlab.progress.v1";
  var body = document.body;
  var signedIn = body.getAttribute("data-signed-in") === "1";
  var userId = body.getAttribute("data-user-id") || null;
  var tz = (Intl.DateTimeFormat().resolvedOptions() || {}).timeZone || "UTC";

  function today() {
    var now = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
  }

  function load() {
    var state = null;
    try { state = JSON.parse(localStorage.getItem(KEY) || "null"); } catch (e) { state = null; }
    if (!state || typeof state !== "object") state = {};
    if (!state.device) state.device = "b" + Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
    state.quests = state.quests || {};
    state.cache = state.cache || {};
    return state;
  }
  function save(state) {
    try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* storage full or disabled */ }
  }
  function questState(state, quest) {
    var q = state.quests[quest];
    if (!q) q = state.quests[quest] = {};
    q.lessons_completed = q.lessons_completed || [];
    q.lesson_days = q.lesson_days || {};
    q.exercise_tokens = q.exercise_tokens || [];
    q.code_runs = q.code_runs || {};
    q.active_days = q.active_days || [];
    return q;
  }
  function addOnce(list, item) { if (list.indexOf(item) < 0) list.push(item); }
  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)questlab_csrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function post(url, payload) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(payload)
    }).then(function (response) {
      if (!response.ok) throw new Error(url + " answered " + response.status);
      return response.json();
    });
  }
  function payload(state, quests) {
    var out = { device: state.device, tz: tz, quests: {} };
    quests.forEach(function (slug) { out.quests[slug] = questState(state, slug); });
    return out;
  }

  // --- what the page shows ---
  function setField(strip, name, value) {
    strip.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) {
      if (el.tagName === "METER") el.value = value; else el.textContent = String(value);
    });
  }
  function stripsOf(quest) {
    return document.querySelectorAll('[data-progress-strip][data-quest="' + quest + '"]');
  }
  function showStrip(quest, progress) {
    stripsOf(quest).forEach(function (strip) {
      var s = progress.strip;
      Object.keys(s).forEach(function (name) { setField(strip, name, s[name]); });
      strip.querySelectorAll('[data-field="xp_meter"]').forEach(function (meter) {
        meter.max = s.xp_for_level || 1; meter.value = s.xp_into_level;
      });
      strip.setAttribute("data-xp", String(s.xp));
      strip.setAttribute("data-level", String(s.level));
      strip.setAttribute("data-synced", "1");
    });
  }
  // The standing before an answer. Signed in, the strip holds it (rendered from the account, or the
  // last answer); a visitor's page is rendered without their progress, so their cached answer does.
  function shownStanding(quest, cached) {
    var strip = stripsOf(quest)[0];
    var fromStrip = strip && strip.hasAttribute("data-xp") ? {
      xp: parseInt(strip.getAttribute("data-xp"), 10) || 0,
      level: parseInt(strip.getAttribute("data-level"), 10) || 0
    } : null;
    var fromCache = cached && cached.strip ? { xp: cached.strip.xp, level: cached.strip.level } : null;
    return signedIn ? (fromStrip || fromCache) : (fromCache || fromStrip);
  }
  function markDone(quest, keys) {
    var lesson = document.querySelector("article.lesson[data-quest]");
    if (lesson && lesson.getAttribute("data-quest") === quest && keys.indexOf(lesson.getAttribute("data-lesson-key")) >= 0) {
      var button = document.querySelector("[data-mark-done]");
      if (button) {
        button.setAttribute("data-done", "");
        button.disabled = true;
        button.textContent = button.getAttribute("data-done-label") || "✓";
      }
      var note = document.querySelector("[data-completion-note]");
      if (note) {
        note.setAttribute("data-done", "");
        note.textContent = note.getAttribute("data-done-label") || "✓";
      }
      var next = document.querySelector("[data-next-step]");
      if (next) next.hidden = false;
    }
    // The chapter's list on a lesson page: marks are only added (keys may be just this lesson).
    document.querySelectorAll('[data-chapter-toc][data-quest="' + quest + '"]').forEach(function (toc) {
      toc.querySelectorAll("li[data-lesson]").forEach(function (li) {
        var mark = li.querySelector("[data-done-mark]");
        if (mark && keys.indexOf(li.getAttribute("data-lesson")) >= 0) mark.hidden = false;
      });
      var count = toc.querySelector("[data-chapter-done]");
      if (count) count.textContent = String(toc.querySelectorAll("li[data-lesson] [data-done-mark]:not([hidden])").length);
    });
    var strip = document.querySelector('[data-progress-strip][data-quest="' + quest + '"]');
    if (!strip || !document.querySelector(".chapter-list")) return;
    document.querySelectorAll(".chapter-list li[data-lesson]").forEach(function (li) {
      var mark = li.querySelector("[data-done-mark]");
      if (mark) mark.hidden = keys.indexOf(li.getAttribute("data-lesson")) < 0;
    });
  }
  // "Start the quest" / "Continue where you left off" / "Review the quest": the first unfinished lesson.
  function showContinue(quest, keys) {
    document.querySelectorAll('[data-continue][data-quest="' + quest + '"]').forEach(function (link) {
      var order = [];
      try { order = JSON.parse(link.getAttribute("data-lessons") || "[]"); } catch (e) { order = []; }
      var next = order.filter(function (item) { return keys.indexOf(item.key) < 0; })[0];
      var label = link.querySelector("[data-continue-label]") || link;
      var title = link.querySelector("[data-continue-title]");
      if (next) {
        link.href = next.url;
        label.textContent = link.getAttribute(keys.length ? "data-label-continue" : "data-label-start");
        if (title) title.textContent = next.title;
      } else if (order.length) {
        link.href = link.getAttribute("data-quest-url");
        label.textContent = link.getAttribute("data-label-review");
        if (title) title.textContent = "";
      }
      link.setAttribute("data-state", next ? (keys.length ? "continue" : "start") : "done");
    });
  }

  // Toasts stack in one container (CSS grid), at the bottom of the window or at its top (is-top),
  // whichever keeps them off the exercise's Run and Submit buttons, and if it can, off the link to
  // the next lesson too. Both places are measured, so this holds for any number of toasts.
  var toastBox = document.querySelector("[data-toasts]");
  function hits(rect, selector) {
    var count = 0;
    document.querySelectorAll(selector).forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width && r.height && r.left < rect.right && rect.left < r.right && r.top < rect.bottom && rect.top < r.bottom) count++;
    });
    return count;
  }
  function placeToasts() {
    if (!toastBox || !toastBox.firstChild) return;
    var must = "[data-exercise-actions] [data-action=run], [data-exercise-actions] [data-action=submit]";
    var nice = "[data-next-step]:not([hidden])";
    function cost(top) {
      toastBox.classList.toggle("is-top", top);
      var rect = toastBox.getBoundingClientRect();
      return hits(rect, must) * 100 + hits(rect, nice);
    }
    var bottom = cost(false), top = cost(true);
    toastBox.classList.toggle("is-top", top < bottom);
  }
  window.addEventListener("scroll", placeToasts, { passive: true });
  window.addEventListener("resize", placeToasts);
  function toast(text, kind) {
    if (!toastBox) return;
    var el = document.createElement("div");
    el.className = "toast" + (kind ? " toast-" + kind : "");
    el.setAttribute("role", "status");
    el.setAttribute("data-toast", kind || "");
    el.textContent = text;
    toastBox.appendChild(el);
    placeToasts();
    setTimeout(function () { el.remove(); }, 6000);
  }
  function label(name) { return (toastBox || body).getAttribute("data-label-" + name) || ""; }
  function show(state, answer, reason) {
    var unlockedLabel = (toastBox || body).getAttribute("data-unlocked-label") || "";
    Object.keys(answer.quests || {}).forEach(function (slug) {
      var progress = answer.quests[slug];
      // Unlocked before this answer: the cached answer, else what the server rendered into the strip.
      var before = state.cache[slug] ? state.cache[slug].achievements : null;
      var strip = document.querySelector('[data-progress-strip][data-quest="' + slug + '"]');
      if (!before && strip) before = (strip.getAttribute("data-unlocked") || "").split(" ").filter(Boolean);
      var was = shownStanding(slug, state.cache[slug]);
      var gained = was ? progress.xp - was.xp : 0;
      if (reason === "pass" && gained > 0) toast(label("xp").replace("{xp}", gained), "xp");
      if (was && progress.level > was.level) {
        toast(label("level").replace("{level}", progress.level).replace("{name}", progress.level_name), "level");
      }
      if (before) {
        (progress.achievement_details || []).forEach(function (a) {
          if (a.unlocked && before.indexOf(a.id) < 0) toast(a.icon + " " + unlockedLabel + ": " + a.title, "achievement");
        });
      }
      state.cache[slug] = { achievements: progress.achievements, xp: progress.xp, strip: progress.strip,
                            lessons_completed: progress.lessons_completed };
      showStrip(slug, progress);
      markDone(slug, progress.lessons_completed || []);
      showContinue(slug, progress.lessons_completed || []);
      if (reason) {
        document.dispatchEvent(new CustomEvent("questlab:progress-scored", {
          detail: { quest: slug, reason: reason, xp_gained: gained, level: progress.level }
        }));
      }
    });
  }

  // --- talking to the server ---
  var busy = null;
  function pageQuests() {
    var found = [];
    document.querySelectorAll("[data-progress-strip][data-quest]").forEach(function (strip) {
      addOnce(found, strip.getAttribute("data-quest"));
    });
    return found;
  }
  /** Send or score the local record and show the answer; ``reason`` ("pass", "lesson", "run") picks the toasts. */
  function refresh(reason) {
    var state = load();
    var shown = pageQuests();
    var request;
    if (signedIn) {
      var sent = JSON.stringify(state.quests);
      if (state.synced === sent && state.signed_in_as === userId && state.tz === tz) {
        return Promise.resolve(null);
      }
      // The whole local record is sent each time: the merge is a union, so nothing counts twice, and
      // per-day code run counters must keep growing from where they were.
      request = post("/api/progress/sync", payload(state, Object.keys(state.quests))).then(function (answer) {
        var now = load();
        now.synced = sent;
        now.signed_in_as = userId;
        now.tz = tz;
        if (state.signed_in_as !== userId) now.cache = {};  // the strip tells what the account already had
        show(now, answer, reason);
        save(now);
        return answer;
      });
    } else {
      if (state.signed_in_as) {  // signed out since: forget the account's cached progress
        state = { device: state.device, quests: {}, cache: {} };
        save(state);
      }
      var quests = Object.keys(state.quests);
      if (!quests.some(function (slug) { return shown.indexOf(slug) >= 0; })) return Promise.resolve(null);
      request = post("/api/progress/evaluate", payload(state, quests)).then(function (answer) {
        var now = load();
        show(now, answer, reason);
        save(now);
        return answer;
      });
    }
    busy = request.catch(function (error) { if (window.console) console.warn("progress:", error); return null; });
    return busy;
  }

  function record(quest, change, reason) {
    var state = load();
    var q = questState(state, quest);
    change(q);
    addOnce(q.active_days, today());
    save(state);
    return refresh(reason);
  }
  function addLesson(q, key) {
    addOnce(q.lessons_completed, key);
    if (!q.lesson_days[key]) q.lesson_days[key] = today();
  }

  function completeLesson(quest, key, xp) {
    var state = load();
    var cached = state.cache[quest];
    // Show the result at once; the server's answer follows within milliseconds and corrects it.
    if (cached && cached.strip && (cached.lessons_completed || []).indexOf(key) < 0) {
      var strip = document.querySelector('[data-progress-strip][data-quest="' + quest + '"]');
      if (strip) {
        setField(strip, "xp", cached.strip.xp + xp);
        setField(strip, "lessons_done", cached.strip.lessons_done + 1);
      }
    }
    markDone(quest, [key]);
    return record(quest, function (q) { addLesson(q, key); }, "lesson");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-mark-done]");
    if (!button || button.disabled) return;
    var lesson = document.querySelector("article.lesson[data-quest]");
    if (!lesson) return;
    completeLesson(lesson.getAttribute("data-quest"), lesson.getAttribute("data-lesson-key"),
                   parseInt(button.getAttribute("data-lesson-xp") || "0", 10));
  });
  document.addEventListener("submit", function (event) {
    if (event.target.matches("[data-signout]")) localStorage.removeItem(KEY);
    // Signing up or in: the form carries this browser's record, merged before the first page.
    var field = event.target.querySelector("[data-local-progress]");
    if (field && !signedIn) {
      var state = load();
      var quests = Object.keys(state.quests);
      var text = quests.length ? JSON.stringify(payload(state, quests)) : "";
      if (text.length < 200000) field.value = text;  // a huge record goes by the sync after the redirect
    }
  });

  var lessonEl = document.querySelector("article.lesson[data-quest]");
  var doneButton = document.querySelector("[data-mark-done]");
  if (lessonEl && doneButton) doneButton.hidden = false;

  // Events from the lesson page's Run buttons and the exercise editor (lesson.js, exercise.js).
  document.addEventListener("questlab:code-run", function () {
    if (lessonEl) window.questlab.progress.codeRun(lessonEl.getAttribute("data-quest"));
  });
  // A pass completes its lesson: the server stored both for a signed-in learner; a visitor's
  // browser keeps the pass's token and the completion, as "Mark this lesson as done" does.
  document.addEventListener("questlab:exercise-passed", function (event) {
    if (!lessonEl) return;
    var quest = lessonEl.getAttribute("data-quest");
    var key = lessonEl.getAttribute("data-lesson-key");
    var detail = event.detail || {};
    if (detail.lesson_completed) markDone(quest, [key]);
    if (detail.completion_token) {
      record(quest, function (q) {
        addOnce(q.exercise_tokens, detail.completion_token);
        if (detail.lesson_completed) addLesson(q, key);
      }, "pass");
    } else {  // signed in: ask the server for the new standing
      var state = load();
      state.synced = null;
      save(state);
      refresh("pass");
    }
  });

  window.questlab = window.questlab || {};
  window.questlab.progress = {
    /** Keep a signed exercise pass token from the grading endpoint (visitors) and re-score. */
    exercisePassed: function (quest, token) {
      return record(quest, function (q) { addOnce(q.exercise_tokens, token); }, "pass");
    },
    /** Count one code run today on this device. */
    codeRun: function (quest) {
      return record(quest, function (q) { var d = today(); q.code_runs[d] = (q.code_runs[d] || 0) + 1; }, "run");
    },
    completeLesson: completeLesson,
    refresh: refresh,
    ready: function () { return busy || Promise.resolve(null); }
  };
  refresh();
})();
