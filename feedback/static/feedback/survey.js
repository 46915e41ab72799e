// The survey page: the follow-up question follows the score band as the respondent changes the
// score. Without this script the page still works (the question is the one for the clicked score).
(function () {
  "use strict";
  function update(input) {
    var label = document.getElementById("follow-up-label");
    if (!label || !input) return;
    var text = label.getAttribute("data-" + input.getAttribute("data-band"));
    if (text) label.textContent = text;
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.name === "score") update(target);
  });
  document.addEventListener("DOMContentLoaded", function () {
    update(document.querySelector("input[name=score]:checked"));
  });
})();
