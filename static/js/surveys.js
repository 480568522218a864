// Surveys: hide an agent's questions while "I don't work with this agent" is switched on.
// The server ignores a skipped agent's answers anyway; this only keeps the page short.
(function () {
  "use strict";
  document.querySelectorAll("[data-survey-skip]").forEach(function (toggle) {
    var target = document.getElementById(toggle.getAttribute("data-survey-skip"));
    if (!target) {
      return;
    }
    var sync = function () {
      target.hidden = toggle.checked;
    };
    toggle.addEventListener("change", sync);
    sync();
  });
})();
