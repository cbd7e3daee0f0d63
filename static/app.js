// The few lines of JavaScript microblog has; every page works without them.
(function () {
  "use strict";

  function showError(message) {
    var area = document.getElementById("flashes");
    if (!area || !message) return;
    var previous = area.querySelector('[data-client-error]');
    if (previous) previous.remove();  // retrying while offline: one message, not a pile
    var alert = document.createElement("div");
    alert.dataset.clientError = "";
    alert.className = "alert alert-danger";
    alert.setAttribute("role", "alert");
    alert.textContent = message;
    area.append(alert);
  }

  // The server could not be reached (stopped, offline, timed out): say so near the top.
  document.addEventListener("htmx:error", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (ctx && !ctx.response) showError(document.body.dataset.msgNetwork);
  });

  // A server error that is not one of ours (e.g. a proxy's 502 page): never swap it in.
  document.addEventListener("htmx:after:request", function (event) {
    var ctx = event.detail.ctx;
    if (ctx.response.status >= 500 && !ctx.response.headers.get("HX-Retarget")) {
      event.preventDefault();
      showError(document.body.dataset.msgServer);
    }
  });
})();
