// questlab: the lesson discussion. The server renders the comments (reading needs no script);
// this file posts, replies, edits, deletes, moderates and toggles the bell through the JSON API.
(function () {
  "use strict";
  var section = document.querySelector("[data-comments]");
  if (!section || !section.hasAttribute("data-signed-in")) return;
  var api = section.getAttribute("data-api");

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
        .then(function (data) { form.reset(); reloadAt("comment-" + data.comment.id); },
              function (error) { showError(form, error); })
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
        .then(function () { reloadAt(item.id); }, function (err) { showError(editor, err); });
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
      call("DELETE", "/api/comments/" + id).then(function () { reloadAt(item.id); },
                                                  function (error) { window.alert(error.message); });
    } else if (action === "hide" || action === "unhide") {
      call("POST", "/api/comments/" + id + "/hide", { hidden: action === "hide" })
        .then(function () { reloadAt(item.id); }, function (error) { window.alert(error.message); });
    } else if (action === "suspend") {
      call("POST", "/api/users/" + button.getAttribute("data-user-id") + "/suspend", { suspended: true })
        .then(function () { reloadAt(item.id); }, function (error) { window.alert(error.message); });
    }
  });

  Array.prototype.forEach.call(section.querySelectorAll("[data-comment-actions]"), function (actions) {
    if (actions.querySelector("[data-action]")) actions.hidden = false;
  });
})();
