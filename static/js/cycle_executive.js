/* The executive review's revenue chart: plan, target and last year by month (json_script). */
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("revenue-data").textContent);
  if (!window.Chart) return;
  new window.Chart(document.getElementById("chart"), {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: (data.names || {}).revenue || "plan", data: data.revenue, backgroundColor: "#1f5eff" },
        { label: (data.names || {}).target || "target", data: data.target, backgroundColor: "#b45309" },
        { label: (data.names || {}).last_year || "last year", data: data.last_year, backgroundColor: "#98a2b3" },
      ],
    },
    options: { animation: false },
  });
})();
