// Product supply page: projected inventory vs safety stock, demand vs feasible (data and the
// translated series names from the page's json_script block "chart-data").
(function () {
  const d = JSON.parse(document.getElementById("chart-data").textContent);
  const names = d.names || {};
  // One options object per chart: Chart.js writes into the object it is given, so a shared one
  // made the bar chart inherit the line chart's unpadded x axis and clip its first and last bars.
  function opts(offset) {
    return {responsive: true, animation: false, interaction: {mode: "index", intersect: false},
            scales: {x: {offset: offset}, y: {beginAtZero: true}}};
  }
  new Chart(document.getElementById("inv-chart"), {type: "line", options: opts(false), data: {labels: d.labels, datasets: [
    {label: names.inventory || "Projected inventory", data: d.inventory, borderColor: "#1f5eff", backgroundColor: "rgba(31,94,255,.12)", fill: true},
    {label: names.safety || "Safety stock", data: d.safety, borderColor: "#b91c1c", borderDash: [6, 4], pointRadius: 0}]}});
  new Chart(document.getElementById("feas-chart"), {type: "bar", options: opts(true), data: {labels: d.labels, datasets: [
    {label: names.demand || "Demand", data: d.demand, backgroundColor: "#98a2b3"},
    {label: names.feasible || "Feasible", data: d.feasible, backgroundColor: "#15803d"}]}});
})();
