/* Scenario comparison chart: the base and each scenario as bar series over a few KPIs (json_script). */
(function () {
  "use strict";
  const source = document.getElementById("compare-data");
  if (!source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const colours = ["#98a2b3", "#1f5eff", "#b45309", "#067647", "#9e1c72", "#5925dc"];
  data.datasets.forEach(function (set, i) { set.backgroundColor = colours[i % colours.length]; });
  new window.Chart(document.getElementById("compare-chart"), {
    type: "bar", data: data, options: { animation: false },
  });
})();
