// A scenario's page while it runs: poll its API resource (the script tag's data-url), show the
// percent done, reload once it has finished.
(function () {
  "use strict";
  const url = document.currentScript.dataset.url;
  (function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.json(); }).then(function (s) {
        const bar = document.getElementById("run-bar");
        const pct = document.getElementById("run-percent");
        if (bar) bar.value = Math.round(s.percent);
        if (pct) pct.textContent = Math.round(s.percent) + " %";
        if (s.status === "queued" || s.status === "running") setTimeout(poll, 1000); else location.reload();
      }).catch(function () { setTimeout(poll, 5000); });
  })();
})();
