// The few lines of JavaScript microblog has; every page works without them.
(function () {
  "use strict";

  // --- A failed htmx request: a short message next to what was clicked ----------------------

  // Where the message goes: right after the form of the clicked control (or the element that
  // made the request), or the flash area if that element is gone.
  function messageSpot(source) {
    var anchor = source && source.isConnected ? source.closest("form") || source : null;
    return anchor || document.getElementById("flashes");
  }

  function previousMessage(spot) {
    var next = spot.id === "flashes" ? spot.lastElementChild : spot.nextElementSibling;
    return next && next.hasAttribute("data-client-error") ? next : null;
  }

  function clearMessage(source) {
    var spot = messageSpot(source);
    var previous = spot && previousMessage(spot);
    if (previous) previous.remove();
  }

  function showMessage(source, text) {
    var spot = messageSpot(source);
    if (!spot || !text) return;
    var alert = document.createElement("div");
    alert.setAttribute("data-client-error", "");
    alert.className = "alert alert-danger small py-1 px-2 my-2";
    alert.setAttribute("role", "alert");
    alert.textContent = text;  // text only: nothing from a response is ever parsed into the page
    var previous = previousMessage(spot);  // retrying while offline: one message, not a pile
    if (previous) previous.replaceWith(alert);
    else if (spot.id === "flashes") spot.append(alert);
    else spot.after(alert);
  }

  // The text of one of the site's own error fragments (it says HX-Retarget); anything else,
  // e.g. a proxy's 502 or 429 page, gets the generic message.
  function serverMessage(ctx) {
    if (ctx.response.headers.get("HX-Retarget")) {
      var doc = new DOMParser().parseFromString(ctx.text || "", "text/html");
      var alert = doc.querySelector(".alert");
      var text = alert && alert.textContent.replace(/\s+/g, " ").trim();
      if (text) return text;
    }
    return document.body.dataset.msgServer;
  }

  // Any answer >= 400 is kept out of the page, except a form re-rendered with its errors (422)
  // and a "log in first" (HX-Redirect, which htmx follows).
  document.addEventListener("htmx:after:request", function (event) {
    var ctx = event.detail.ctx;
    var response = ctx.response;
    if (response.status < 400 || response.status === 422 || response.headers.get("HX-Redirect")) {
      clearMessage(ctx.sourceElement);  // it worked this time: the old message is stale
      return;
    }
    event.preventDefault();  // no swap at all: a hx-swap="delete" target stays too
    showMessage(ctx.sourceElement, serverMessage(ctx));
  });

  // The server could not be reached (stopped, offline, timed out).
  document.addEventListener("htmx:error", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (ctx && !ctx.response) showMessage(ctx.sourceElement, document.body.dataset.msgNetwork);
  });

  // --- Focus after a post is deleted: the next post, else the previous, else the heading -------

  function listHeading(list) {
    for (var el = list; el && el !== document.body; el = el.parentElement) {
      for (var sibling = el.previousElementSibling; sibling; sibling = sibling.previousElementSibling) {
        if (/^H[1-6]$/.test(sibling.tagName)) return sibling;
      }
    }
    return document.getElementById("content");
  }

  function neighbourOf(post) {
    for (var next = post.nextElementSibling; next; next = next.nextElementSibling) {
      if (next.matches("article.post")) return next;
    }
    for (var previous = post.previousElementSibling; previous; previous = previous.previousElementSibling) {
      if (previous.matches("article.post")) return previous;
    }
    return listHeading(post.parentElement);
  }

  document.addEventListener("htmx:before:request", function (event) {
    var ctx = event.detail.ctx;
    if (ctx.target && ctx.target.matches && ctx.target.matches("article.post")) {
      ctx.focusAfterRemoval = neighbourOf(ctx.target);
    }
  });

  document.addEventListener("htmx:after:swap", function (event) {
    var ctx = event.detail.ctx;
    var next = ctx.focusAfterRemoval;
    var lost = !document.activeElement || document.activeElement === document.body;
    if (!next || !next.isConnected || ctx.target.isConnected || !lost) return;
    if (!next.hasAttribute("tabindex")) next.setAttribute("tabindex", "-1");
    next.focus();
  });
})();
