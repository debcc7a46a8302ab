// questlab: the lesson discussion. The server renders the comments (reading needs no script);
// this file posts, replies, edits, deletes, moderates and toggles the bell through the JSON API,
// and keeps the open page current: every few seconds, and after each change, it fetches the
// discussion as the server renders it (GET <lesson>/comments) and puts in the comments this page
// does not show yet, the new count and, signed in, the header's unread notifications.
(function () {
  "use strict";
  var section = document.querySelector("[data-comments]");
  if (!section) return;
  var api = section.getAttribute("data-api");
  var REFRESH_MS = 5000;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)questlab_csrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function call(method, url, body) {
    var options = { method: method, credentials: "same-origin",
                    headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.detail || ("HTTP " + response.status));
          throw error;
        }
        return data;
      });
    });
  }

  function reloadAt(anchor) {
    if (anchor) window.location.hash = anchor;
    window.location.reload();
  }

  // --- keeping the page current ---
  function showActions(item) {
    Array.prototype.forEach.call(item.querySelectorAll("[data-comment-actions]"), function (actions) {
      if (actions.querySelector("[data-action]")) actions.hidden = false;
    });
  }

  function showUnread(count) {
    var link = document.querySelector("[data-notifications-link]");
    if (!link) return;
    var badge = link.querySelector("[data-unread-count]");
    if (count > 0) {
      if (!badge) {
        badge = document.createElement("span");
        badge.className = "nav-badge";
        badge.setAttribute("data-unread-count", "");
        link.appendChild(badge);
      }
      badge.textContent = String(count);
    } else if (badge) {
      badge.remove();
    }
  }

  // The part of ``fresh`` matched by ``selector`` replaces this page's (added before ``anchor`` when
  // this page has none yet); kept when the fresh discussion has none (a page shift is not a removal).
  function takePart(fresh, selector, anchor, after) {
    var mine = section.querySelector(selector);
    var theirs = fresh.querySelector(selector);
    if (!theirs) return;
    var node = document.importNode(theirs, true);
    if (mine) mine.replaceWith(node);
    else if (after) anchor.after(node);
    else anchor.before(node);
  }

  // Bring in what the server shows now: new comments go in their places, changed ones (edited,
  // deleted, hidden) are replaced unless a form is open in them; nothing the reader is using moves.
  function merge(fresh) {
    var list = section.querySelector("[data-comment-list]");
    var freshList = fresh.querySelector("[data-comment-list]");
    if (!list || !freshList) return;
    var previous = null;
    Array.prototype.forEach.call(freshList.children, function (item) {
      var mine = document.getElementById(item.id);
      var node = mine;
      if (!mine || mine.parentNode !== list) {
        node = document.importNode(item, true);
        list.insertBefore(node, previous ? previous.nextElementSibling : list.firstElementChild);
        showActions(node);
      } else if (mine.getAttribute("data-state") !== item.getAttribute("data-state") && !mine.querySelector("form")) {
        node = document.importNode(item, true);
        mine.replaceWith(node);
        showActions(node);
      }
      previous = node;
    });
    var count = section.querySelector("[data-comment-count]");
    var freshCount = fresh.querySelector("[data-comment-count]");
    if (count && freshCount) count.textContent = freshCount.textContent;
    var empty = section.querySelector("[data-empty-state]");
    if (empty && !fresh.querySelector("[data-empty-state]")) empty.remove();
    takePart(fresh, ".comment-sort", list, false);
    takePart(fresh, ".pagination", list, true);
    if (fresh.hasAttribute("data-unread")) showUnread(parseInt(fresh.getAttribute("data-unread"), 10) || 0);
  }

  var loading = null;
  function refresh() {
    if (loading) return loading;
    var query = "?sort=" + encodeURIComponent(section.getAttribute("data-sort") || "newest") +
      "&cpage=" + encodeURIComponent(section.getAttribute("data-page") || "1") +
      "&lang=" + encodeURIComponent(document.documentElement.lang || "");
    loading = fetch(section.getAttribute("data-refresh") + query,
                    { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-comments]");
        if (fresh) merge(fresh);
      });
    var done = function () { loading = null; };
    loading.then(done, done);
    return loading;
  }

  // After a change of one's own: show it, or reload at it when the fresh discussion cannot be had.
  function refreshAt(anchor, focus) {
    return refresh().then(function () {
      var item = document.getElementById(anchor);
      if (!item) throw new Error("not shown");
      item.scrollIntoView({ block: "nearest" });
      if (focus) { item.tabIndex = -1; item.focus(); }
    }).catch(function () { reloadAt(anchor); });
  }

  if (section.getAttribute("data-refresh")) {
    var tick = function () { if (!document.hidden) refresh().catch(function () { /* next time */ }); };
    window.setInterval(tick, REFRESH_MS);
    document.addEventListener("visibilitychange", tick);
  }

  if (!section.hasAttribute("data-signed-in")) return;

  function showError(form, error) {
    var box = form.querySelector("[data-form-error]");
    if (box) { box.textContent = error.message; box.hidden = false; } else { window.alert(error.message); }
  }

  // The bell: PUT turns reply notifications on, DELETE turns them off.
  var bell = section.querySelector("button[data-bell]");
  if (bell) {
    bell.addEventListener("click", function () {
      var on = bell.getAttribute("aria-pressed") === "true";
      bell.disabled = true;
      call(on ? "DELETE" : "PUT", api + "subscription").then(function (data) {
        bell.setAttribute("aria-pressed", data.subscribed ? "true" : "false");
        bell.title = bell.getAttribute(data.subscribed ? "data-label-on" : "data-label-off");
      }, function (error) { window.alert(error.message); }).then(function () { bell.disabled = false; });
    });
  }

  var form = section.querySelector("[data-comment-form]");
  var home = form ? form.parentNode : null;
  var homeNext = form ? form.nextSibling : null;
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var parent = form.querySelector("[data-parent-field]").value;
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      call("POST", api + "comments", { body: form.elements.body.value,
                                       parent_id: parent ? parseInt(parent, 10) : null })
        .then(function (data) {
          form.reset();
          form.querySelector("[data-form-error]").hidden = true;
          cancelReply();
          return refreshAt("comment-" + data.comment.id, false);
        }, function (error) { showError(form, error); })
        .then(function () { button.disabled = false; });
    });
  }

  function cancelReply() {
    if (!form) return;
    form.querySelector("[data-parent-field]").value = "";
    form.classList.remove("is-reply");
    home.insertBefore(form, homeNext);
  }

  function startEdit(item) {
    var body = item.querySelector("[data-comment-body]");
    var source = item.querySelector("template[data-comment-source]");
    if (!body || !source || item.querySelector("[data-edit-form]")) return;
    var editor = document.createElement("form");
    editor.setAttribute("data-edit-form", "");
    editor.className = "comment-form";
    var area = document.createElement("textarea");
    area.name = "body";
    area.rows = 4;
    area.value = source.content.textContent;
    var error = document.createElement("p");
    error.className = "form-error";
    error.setAttribute("data-form-error", "");
    error.hidden = true;
    var save = document.createElement("button");
    save.type = "submit";
    save.className = "btn btn-primary";
    save.textContent = item.querySelector("[data-action=edit]").textContent;
    editor.appendChild(area);
    editor.appendChild(error);
    editor.appendChild(save);
    body.hidden = true;
    body.parentNode.insertBefore(editor, body.nextSibling);
    area.focus();
    editor.addEventListener("submit", function (event) {
      event.preventDefault();
      call("PUT", "/api/comments/" + item.getAttribute("data-comment-id"), { body: area.value })
        .then(function () {
          editor.remove();
          body.hidden = false;
          return refreshAt(item.id, true);
        }, function (err) { showError(editor, err); });
    });
  }

  section.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) return;
    var item = button.closest("[data-comment-id]");
    var id = item.getAttribute("data-comment-id");
    var action = button.getAttribute("data-action");
    var question = button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) return;
    if (action === "reply" && form) {
      if (form.querySelector("[data-parent-field]").value === id) { cancelReply(); return; }
      form.querySelector("[data-parent-field]").value = id;
      form.classList.add("is-reply");
      item.appendChild(form);
      form.elements.body.focus();
    } else if (action === "edit") {
      startEdit(item);
    } else if (action === "delete") {
      if (item.contains(form)) cancelReply();
      call("DELETE", "/api/comments/" + id).then(function () { return refreshAt(item.id, true); },
                                                  function (error) { window.alert(error.message); });
    } else if (action === "hide" || action === "unhide") {
      if (item.contains(form)) cancelReply();
      call("POST", "/api/comments/" + id + "/hide", { hidden: action === "hide" })
        .then(function () { return refreshAt(item.id, true); }, function (error) { window.alert(error.message); });
    } else if (action === "suspend") {
      call("POST", "/api/users/" + button.getAttribute("data-user-id") + "/suspend", { suspended: true })
        .then(function () { reloadAt(item.id); }, function (error) { window.alert(error.message); });
    }
  });

  showActions(section);
})();
