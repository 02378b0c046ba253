// Forecast series page: history, forecast and the 80 % / 95 % bands (data from the page's
// json_script block "chart-data").
(function () {
  const d = JSON.parse(document.getElementById("chart-data").textContent);
  new Chart(document.getElementById("chart"), {
    type: "line",
    data: {labels: d.labels, datasets: [
      {label: (d.names || {}).hi95 || "95 % high", data: d.hi95, borderWidth: 0, pointRadius: 0, backgroundColor: "rgba(31,94,255,.10)", fill: "+1"},
      {label: (d.names || {}).lo95 || "95 % low", data: d.lo95, borderWidth: 0, pointRadius: 0, fill: false},
      {label: (d.names || {}).hi80 || "80 % high", data: d.hi80, borderWidth: 0, pointRadius: 0, backgroundColor: "rgba(31,94,255,.20)", fill: "+1"},
      {label: (d.names || {}).lo80 || "80 % low", data: d.lo80, borderWidth: 0, pointRadius: 0, fill: false},
      {label: (d.names || {}).point || "Forecast", data: d.point, borderColor: "#1f5eff", borderWidth: 2, pointRadius: 2, fill: false},
      {label: (d.names || {}).history || "History", data: d.history, borderColor: "#101828", borderWidth: 1.5, pointRadius: 1.5, fill: false},
    ]},
    options: {animation: false, plugins: {legend: {labels: {filter: i => !i.text.includes("low")}}},
              scales: {y: {beginAtZero: true}}}
  });
})();
