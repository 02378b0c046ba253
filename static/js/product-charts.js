// Product supply page: projected inventory vs safety stock, demand vs feasible (data from the
// page's json_script block "chart-data").
(function () {
  const d = JSON.parse(document.getElementById("chart-data").textContent);
  const opts = {responsive: true, animation: false, interaction: {mode: "index", intersect: false},
                scales: {y: {beginAtZero: true}}};
  new Chart(document.getElementById("inv-chart"), {type: "line", options: opts, data: {labels: d.labels, datasets: [
    {label: "Projected inventory", data: d.inventory, borderColor: "#1f5eff", backgroundColor: "rgba(31,94,255,.12)", fill: true},
    {label: "Safety stock", data: d.safety, borderColor: "#b91c1c", borderDash: [6, 4], pointRadius: 0}]}});
  new Chart(document.getElementById("feas-chart"), {type: "bar", options: opts, data: {labels: d.labels, datasets: [
    {label: "Demand", data: d.demand, backgroundColor: "#98a2b3"},
    {label: "Feasible", data: d.feasible, backgroundColor: "#15803d"}]}});
})();
