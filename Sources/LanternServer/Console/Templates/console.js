// Lantern console: the alert page's live preview. The page works without this (Preview button);
// with it, the preview follows what is typed. Sends the form to our own server only.
(function () {
  "use strict";
  var form = document.getElementById("alert-form");
  var target = document.getElementById("preview");
  if (!form || !target || !window.fetch || !window.URLSearchParams) { return; }
  var timer = null;
  var latest = 0;
  function refresh() {
    var body = new URLSearchParams(new FormData(form));
    body.set("action", "preview");
    var mine = ++latest;
    fetch("/console/alerts/preview", {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (r) { return r.ok || r.status === 400 ? r.text() : null; })
      .then(function (html) {
        if (html === null || mine !== latest) { return; }
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("preview");
        if (next) { target.replaceWith(next); target = next; }
      }).catch(function () {});
  }
  function soon() { clearTimeout(timer); timer = setTimeout(refresh, 500); }
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
})();
// TALK: a chat's texts as they are relayed, while its page is open (never stored anywhere).
(function () {
  "use strict";
  var list = document.getElementById("live");
  if (!list || !window.EventSource) { return; }
  var source = new EventSource("/console/talk/" + encodeURIComponent(list.getAttribute("data-ref")) + "/events");
  source.onmessage = function (e) {
    var item = document.createElement("li");
    item.textContent = e.data;
    list.appendChild(item);
  };
  var form = document.getElementById("talk-form");
  if (form && window.fetch) {
    form.addEventListener("submit", function (e) {
      var button = e.submitter;
      if (!button || button.value !== "answer") { return; }
      e.preventDefault();
      var body = new URLSearchParams(new FormData(form));
      body.set("action", "answer");
      fetch(form.getAttribute("action"), { method: "POST", credentials: "same-origin", body: body,
                           headers: { "Content-Type": "application/x-www-form-urlencoded" } })
        .then(function (r) { if (r.ok) { form.querySelector("textarea").value = ""; } });
    });
  }
})();
