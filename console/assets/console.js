// ginkey console: progressive enhancement only; every page works without it.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var copy = ev.target.closest("[data-copy]");
    if (copy) {
      var src = document.getElementById(copy.getAttribute("data-copy"));
      if (src && navigator.clipboard) {
        navigator.clipboard.writeText(src.textContent).then(function () {
          copy.textContent = "Copied";
        }, function () {
          copy.textContent = "Copy failed: select the key and copy it";
        });
      }
    }
  });
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var msg = form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
      return;
    }
    // A form that mints a key goes once: a second click would replace the
    // page that shows the key with the server's "sent already".
    if (form.querySelector("input[name=once]")) {
      if (form.hasAttribute("data-sent")) {
        ev.preventDefault();
        return;
      }
      form.setAttribute("data-sent", "");
    }
  });
  var btn = document.getElementById("copy");
  if (btn && navigator.clipboard) {
    btn.hidden = false;
  }
})();
