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
        { label: "plan", data: data.revenue, backgroundColor: "#1f5eff" },
        { label: "target", data: data.target, backgroundColor: "#b45309" },
        { label: "last year", data: data.last_year, backgroundColor: "#98a2b3" },
      ],
    },
    options: { animation: false },
  });
})();
