/* Forecast value added: WAPE of each step of the demand process by month (json_script). */
(function () {
  "use strict";
  const source = document.getElementById("accuracy-data");
  const canvas = document.getElementById("accuracy-chart");
  if (!source || !canvas || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const yTitle = data.y_title;
  delete data.y_title;
  const colours = ["#98a2b3", "#1f5eff", "#b45309", "#067647"];
  data.datasets.forEach(function (set, i) {
    set.borderColor = colours[i % colours.length];
    set.backgroundColor = colours[i % colours.length];
    set.spanGaps = true;
  });
  new window.Chart(canvas, {
    type: "line", data: data,
    options: { animation: false, scales: { y: { title: { display: true, text: yTitle }, beginAtZero: true } } },
  });
})();
