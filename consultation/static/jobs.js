// The job page updates itself: every two seconds, while a job is queued, running or waiting for a retry,
// it asks the server for the states and replaces the table (rendered by the same template as the page).
(function () {
  "use strict";
  var box = document.getElementById("jobs-live");
  if (!box) { return; }
  var active = function () { return box.querySelector('tr[data-state="queued"], tr[data-state="running"], tr[data-state="retrying"]'); };
  function poll() {
    var table = box.querySelector("table[data-poll]");
    if (!table || !active()) { return; }
    fetch(table.getAttribute("data-poll"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && typeof data.html === "string") { box.innerHTML = data.html; }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
}());
