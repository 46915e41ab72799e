// The project's own script. No inline scripts anywhere (the Content Security Policy forbids them).
(function () {
  "use strict";
  // Tell the user when a background request fails instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var text = status === 403 || status === 404
      ? "You no longer have access to this. Reload the page."
      : "Something went wrong (" + status + "). Your input is kept; try again.";
    showMessage(text);
  });
  document.addEventListener("htmx:sendError", function () {
    showMessage("The server could not be reached. Check your connection and try again.");
  });
  function showMessage(text) {
    var main = document.getElementById("main");
    if (!main) return;
    var list = main.querySelector(".messages");
    if (!list) {
      list = document.createElement("ul");
      list.className = "messages";
      list.setAttribute("role", "status");
      main.prepend(list);
    }
    var item = document.createElement("li");
    item.className = "message error";
    item.textContent = text;
    list.appendChild(item);
  }
  // A table wider than its box scrolls sideways: make that box reachable with the keyboard
  // (arrow keys scroll it once focused) and name it after its table, for screen readers too.
  function scrollableTables(root) {
    var boxes = (root || document).querySelectorAll(".table-wrap");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (box.scrollWidth > box.clientWidth + 1) {
        if (box.hasAttribute("tabindex")) continue;  // the template decided
        box.setAttribute("data-scroll-focus", "");
        box.setAttribute("tabindex", "0");
        if (!box.hasAttribute("role")) box.setAttribute("role", "region");
        if (!box.hasAttribute("aria-label")) {
          var caption = box.querySelector("caption");
          var section = box.closest("section");
          var heading = section && section.querySelector("h2, h3");
          var name = (caption || heading) ? (caption || heading).textContent.trim() : "";
          box.setAttribute("aria-label", name ? "Table: " + name : "Table");
        }
      } else if (box.hasAttribute("data-scroll-focus")) {
        box.removeAttribute("data-scroll-focus");
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    }
  }
  document.addEventListener("DOMContentLoaded", function () { scrollableTables(); });
  document.addEventListener("htmx:afterSettle", function () { scrollableTables(); });
  var resizeTimer;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(scrollableTables, 150);
  });
  // When htmx replaces the part of the page that held the keyboard focus (a form sent in place,
  // a task row, a sorted table), put the focus back in the new part instead of letting it fall
  // to the top of the page: on the first field with an error, else the same link (a sort
  // header, a page link) or field, else the part's first control.
  var focusHome = null;
  function linkLabel(el) {
    return (el.textContent || "").replace(/[\u25B2\u25BC]/g, "").trim();
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    focusHome = target && target.id && active && active !== document.body && target.contains(active)
      ? { id: target.id, name: active.name || "", link: active.tagName === "A" ? linkLabel(active) : "" }
      : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var wanted = focusHome;
    var home = wanted ? document.getElementById(wanted.id) : null;
    focusHome = null;
    if (!home || (document.activeElement && document.activeElement !== document.body)) return;
    var next = home.querySelector(".has-error input, .has-error select, .has-error textarea");
    if (!next && wanted.link) {
      var links = home.querySelectorAll("a[href]");
      for (var i = 0; i < links.length && !next; i++) {
        if (linkLabel(links[i]) === wanted.link) next = links[i];
      }
    }
    if (!next && wanted.name) {
      var named = home.querySelectorAll("input, select, textarea");
      for (var j = 0; j < named.length && !next; j++) {
        if (named[j].name === wanted.name && named[j].type !== "hidden") next = named[j];
      }
    }
    next = next || home.querySelector("input:not([type=hidden]), select, textarea, button, a[href]");
    if (!next) {
      home.setAttribute("tabindex", "-1");
      next = home;
    }
    next.focus();
  });
  // Confirm destructive actions: any form or button with data-confirm.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);
})();
