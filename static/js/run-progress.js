// Plan and forecast run pages: poll the run's API resource (the script tag's data-url) while
// it is queued or running, update the figures, reload the page once it has finished.
(function () {
  const url = document.currentScript.dataset.url;
  const show = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };
  (function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(r => r.json()).then(run => {
        show("run-percent", Math.round(run.percent) + " %");
        document.getElementById("run-bar").style.width = Math.round(run.percent) + "%";
        show("run-status", run.status.replace(/_/g, " "));
        if ("plan_lines_count" in run) {
          show("run-lines", run.plan_lines_count.toLocaleString());
          show("run-alerts", run.alerts_raised + " / " + run.alerts_updated + " / " + run.alerts_resolved);
        }
        if ("series_done" in run) {
          show("run-done", run.series_done.toLocaleString() + " / " + run.series_total.toLocaleString());
          show("run-failed", run.series_failed.toLocaleString());
        }
        if (run.status === "queued" || run.status === "running") setTimeout(poll, 1500); else location.reload();
      }).catch(() => setTimeout(poll, 5000));
  })();
})();
