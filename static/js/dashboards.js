/* Role home dashboards: draw every chart whose data the page passed with json_script
   (<canvas data-chart="ID"> reads <script id="ID" type="application/json">). The same numbers
   are in the table under each chart and in its CSV export. */
(function () {
  "use strict";
  if (!window.Chart) return;
  const colours = ["#1f5eff", "#b45309", "#15803d", "#7c3aed", "#0e7490", "#be123c", "#4d7c0f", "#98a2b3"];
  const severity = {critical: "#b42318", warning: "#b54708", info: "#175cd3"};
  const lang = document.documentElement.lang || undefined;
  const format = new Intl.NumberFormat(lang, {maximumFractionDigits: 1});

  function dataset(s, i, chart) {
    const colour = colours[i % colours.length];
    const d = {label: s.label, data: s.data, borderColor: colour, backgroundColor: colour, spanGaps: true};
    switch (s.style) {
      case "bar": return Object.assign(d, {type: "bar", backgroundColor: "#1f5eff", borderColor: "#1f5eff"});
      case "bar-muted": return Object.assign(d, {type: "bar", backgroundColor: "#98a2b3", borderColor: "#98a2b3"});
      case "bar-accent": return Object.assign(d, {type: "bar", backgroundColor: "#b45309", borderColor: "#b45309"});
      case "severity": return Object.assign(d, {type: "bar", backgroundColor: chart.raw_labels.map((l) => severity[l] || "#98a2b3")});
      case "line": return Object.assign(d, {type: "line", pointRadius: 2, fill: false});
      case "line-dashed": return Object.assign(d, {type: "line", borderColor: "#b45309", backgroundColor: "#b45309", borderDash: [6, 4], pointRadius: 0, fill: false});
      case "line-accent": return Object.assign(d, {type: "line", borderColor: "#15803d", backgroundColor: "#15803d", pointRadius: 2, fill: false});
      case "band95": return Object.assign(d, {type: "line", borderWidth: 0, pointRadius: 0, borderColor: "rgba(31,94,255,0)", backgroundColor: "rgba(31,94,255,0.10)", fill: false});
      case "band95-hi": return Object.assign(d, {type: "line", borderWidth: 0, pointRadius: 0, borderColor: "rgba(31,94,255,0)", backgroundColor: "rgba(31,94,255,0.10)", fill: "-1"});
      case "band80": return Object.assign(d, {type: "line", borderWidth: 0, pointRadius: 0, borderColor: "rgba(31,94,255,0)", backgroundColor: "rgba(31,94,255,0.22)", fill: false});
      case "band80-hi": return Object.assign(d, {type: "line", borderWidth: 0, pointRadius: 0, borderColor: "rgba(31,94,255,0)", backgroundColor: "rgba(31,94,255,0.22)", fill: "-1"});
      default: return d;
    }
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const chart = JSON.parse(source.textContent);
    const horizontal = chart.kind === "hbar";
    const suffix = chart.unit === "pct" ? " %" : "";
    new window.Chart(canvas, {
      type: horizontal || chart.kind === "bar" ? "bar" : "line",
      data: {labels: chart.labels, datasets: chart.series.map((s, i) => dataset(s, i, chart))},
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        indexAxis: horizontal ? "y" : "x",
        interaction: {mode: "index", intersect: false},
        plugins: {
          legend: {display: chart.series.length > 1, labels: {filter: (item) => !/band/.test(chart.series[item.datasetIndex].style) || /-hi$/.test(chart.series[item.datasetIndex].style)}},
          tooltip: {callbacks: {label: (ctx) => ctx.dataset.label + ": " + (ctx.raw === null ? "—" : format.format(ctx.raw) + suffix)}},
        },
        scales: {[horizontal ? "x" : "y"]: {beginAtZero: chart.unit !== "pct" || chart.id !== "accuracy", ticks: {callback: (v) => format.format(v) + suffix}}},
      },
    });
  });
})();
