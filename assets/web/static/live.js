// Polls the resident's live power (the "live" JSON next to the page) and
// shows it; the page works without it, showing the figures only.
(function () {
  "use strict";
  var box = document.getElementById("now");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-live");
  var every = (parseInt(box.getAttribute("data-poll"), 10) || 5) * 1000;
  function set(id, text) { var e = document.getElementById(id); if (e) { e.textContent = text; } }
  function show(a) {
    set("own-kw", a.ok ? a.own_kw : "–");
    set("pv-kw", a.ok ? a.pv_kw : "–");
    set("live-time", a.ok ? a.time : "–");
    set("cover-text", a.text);
    document.getElementById("cover").value = a.cover;
    document.getElementById("cover-box").setAttribute("data-status", a.status);
  }
  function poll() {
    fetch(url, {cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer"})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(show)
      .catch(function () { set("live-time", "–"); })
      .then(function () { setTimeout(poll, every); });
  }
  poll();
})();
