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
  // Confirm destructive actions: any form or button with data-confirm.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);
})();
