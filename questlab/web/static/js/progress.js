// questlab progress: the status strip, "Mark this lesson as done", local-first storage and sync.
//
// Without an account, progress is kept in localStorage in the shape POST /api/progress/sync takes
// (see docs/api.md) and scored by POST /api/progress/evaluate. Signed in, every change is synced at
// once; entries that could not be sent (offline) stay pending and go with the next page.
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
  function showStrip(quest, progress) {
    document.querySelectorAll('[data-progress-strip][data-quest="' + quest + '"]').forEach(function (strip) {
      var s = progress.strip;
      Object.keys(s).forEach(function (name) { setField(strip, name, s[name]); });
      strip.querySelectorAll('[data-field="xp_meter"]').forEach(function (meter) {
        meter.max = s.xp_for_level || 1; meter.value = s.xp_into_level;
      });
      strip.setAttribute("data-synced", "1");
    });
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
    }
    var strip = document.querySelector('[data-progress-strip][data-quest="' + quest + '"]');
    if (!strip || !document.querySelector(".chapter-list")) return;
    document.querySelectorAll("li[data-lesson]").forEach(function (li) {
      var mark = li.querySelector("[data-done-mark]");
      if (mark) mark.hidden = keys.indexOf(li.getAttribute("data-lesson")) < 0;
    });
  }
  function toast(text) {
    var box = document.querySelector("[data-toasts]");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast";
    el.setAttribute("role", "status");
    el.setAttribute("data-toast", "");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }
  function show(state, answer) {
    var label = (document.querySelector("[data-toasts]") || body).getAttribute("data-unlocked-label") || "";
    Object.keys(answer.quests || {}).forEach(function (slug) {
      var progress = answer.quests[slug];
      // Unlocked before this answer: the cached answer, else what the server rendered into the strip.
      var before = state.cache[slug] ? state.cache[slug].achievements : null;
      var strip = document.querySelector('[data-progress-strip][data-quest="' + slug + '"]');
      if (!before && strip) before = (strip.getAttribute("data-unlocked") || "").split(" ").filter(Boolean);
      if (before) {
        (progress.achievement_details || []).forEach(function (a) {
          if (a.unlocked && before.indexOf(a.id) < 0) toast(a.icon + " " + label + ": " + a.title);
        });
      }
      state.cache[slug] = { achievements: progress.achievements, xp: progress.xp, strip: progress.strip,
                            lessons_completed: progress.lessons_completed };
      showStrip(slug, progress);
      markDone(slug, progress.lessons_completed || []);
    });
  }

  // --- talking to the server ---
  var busy = null;
  function refresh() {
    var state = load();
    var pageQuest = (document.querySelector("[data-progress-strip]") || {}).getAttribute
      ? document.querySelector("[data-progress-strip]").getAttribute("data-quest") : null;
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
        show(now, answer);
        save(now);
        return answer;
      });
    } else {
      if (state.signed_in_as) {  // signed out since: forget the account's cached progress
        state = { device: state.device, quests: {}, cache: {} };
        save(state);
      }
      var quests = Object.keys(state.quests);
      if (pageQuest && quests.indexOf(pageQuest) < 0) return Promise.resolve(null);
      request = post("/api/progress/evaluate", payload(state, quests)).then(function (answer) {
        var now = load();
        show(now, answer);
        save(now);
        return answer;
      });
    }
    busy = request.catch(function (error) { if (window.console) console.warn("progress:", error); return null; });
    return busy;
  }

  function record(quest, change) {
    var state = load();
    var q = questState(state, quest);
    change(q);
    addOnce(q.active_days, today());
    save(state);
    return refresh();
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
    return record(quest, function (q) {
      addOnce(q.lessons_completed, key);
      if (!q.lesson_days[key]) q.lesson_days[key] = today();
    });
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
  });

  var lessonEl = document.querySelector("article.lesson[data-quest]");
  var doneButton = document.querySelector("[data-mark-done]");
  if (lessonEl && doneButton) doneButton.hidden = false;

  // Events from the lesson page's Run buttons and the exercise editor (lesson.js, exercise.js).
  document.addEventListener("questlab:code-run", function () {
    if (lessonEl) window.questlab.progress.codeRun(lessonEl.getAttribute("data-quest"));
  });
  document.addEventListener("questlab:exercise-passed", function (event) {
    if (!lessonEl) return;
    var quest = lessonEl.getAttribute("data-quest");
    var token = event.detail && event.detail.completion_token;
    if (token) {
      window.questlab.progress.exercisePassed(quest, token);
    } else {  // signed in: the server stored the pass; ask it for the new standing
      var state = load();
      state.synced = null;
      save(state);
      refresh();
    }
  });

  window.questlab = window.questlab || {};
  window.questlab.progress = {
    /** Keep a signed exercise pass token from the grading endpoint (visitors) and re-score. */
    exercisePassed: function (quest, token) {
      return record(quest, function (q) { addOnce(q.exercise_tokens, token); });
    },
    /** Count one code run today on this device. */
    codeRun: function (quest) {
      return record(quest, function (q) { var d = today(); q.code_runs[d] = (q.code_runs[d] || 0) + 1; });
    },
    completeLesson: completeLesson,
    refresh: refresh,
    ready: function () { return busy || Promise.resolve(null); }
  };
  refresh();
})();
