// On every page: Copy buttons for links and tokens shown once, select-on-focus, and confirmation
// before destructive form posts (form[data-confirm]).
(function () {
  "use strict";

  function say(targetId, text) {
    var status = document.querySelector('[data-copy-status="' + targetId + '"]');
    if (status) {
      status.textContent = text;
    }
  }

  document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var targetId = button.getAttribute("data-copy-target");
      var input = document.getElementById(targetId);
      if (!input) {
        return;
      }
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(
          function () { say(targetId, "Copied to the clipboard."); },
          function () { say(targetId, "Could not copy: the text is selected, press Ctrl+C."); }
        );
      } else {
        // Plain-HTTP deployments have no clipboard API; the selected text can be copied by hand.
        say(targetId, "Selected: press Ctrl+C (or Cmd+C) to copy.");
      }
    });
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
})();
