/* The demand review page: chart, inline edits through the API (with the row's etag), and
   family rows that expand to products or territories. Data comes from json_script tags. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("page-config").textContent);
  const chartData = JSON.parse(document.getElementById("chart-data").textContent);
  const status = document.getElementById("edit-status");
  const csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

  function say(text, kind) {
    status.textContent = text;
    status.className = "msg " + (kind || "");
  }

  if (window.Chart && document.getElementById("chart")) {
    const series = [
      ["history", "#667085"], ["statistical", "#2563eb"], ["consensus", "#15803d"],
      ["target", "#b45309"], ["feasible", "#b91c1c"], ["sales_override", "#7c3aed"],
    ];
    new window.Chart(document.getElementById("chart"), {
      type: "line",
      data: {
        labels: chartData.labels,
        datasets: series.map(([key, color]) => ({
          label: (chartData.names || {})[key] || key.replace("_", " "), data: chartData[key], borderColor: color, backgroundColor: color,
          pointRadius: 1, spanGaps: false, borderDash: key === "target" ? [6, 4] : [],
        })),
      },
      options: { animation: false, interaction: { mode: "index", intersect: false } },
    });
  }

  async function edit(input) {
    const reasonField = document.getElementById("edit-reason");
    const reason = reasonField ? reasonField.value.trim() : "";
    if (!reason) {
      say(config.messages.reason, "error");
      input.value = input.defaultValue;
      if (reasonField) reasonField.focus();
      return;
    }
    const body = { level: input.dataset.level, period_start: input.dataset.period, measure: input.dataset.measure,
                   value: Number(input.value), reason: reason, etag: input.dataset.etag };
    for (const key of ["family_code", "product_sku", "territory_code", "region_code"]) {
      if (input.dataset[key]) body[key] = input.dataset[key];
    }
    // The rows of no territory are addressed with an explicit null (see the API).
    if (input.dataset.noTerritory) body[input.dataset.noTerritory] = null;
    input.disabled = true;
    const response = await fetch(config.edit_url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify(body),
    });
    input.disabled = false;
    const data = await response.json().catch(() => ({}));
    if (response.status === 412) {
      input.classList.add("conflict");
      say(config.messages.conflict, "error");
      return;
    }
    if (!response.ok) {
      const error = data.error || {};
      const details = error.details ? Object.values(error.details).join(" ") : "";
      say(config.messages.failed + " " + (error.message || response.status) + " " + details, "error");
      input.value = input.defaultValue;
      return;
    }
    input.dataset.etag = data.etag;
    input.defaultValue = input.value;
    input.classList.remove("conflict");
    input.classList.add("saved");
    say(config.messages.saved, "success");
    // Totals, the chart and the rows under this one changed: show them as stored.
    window.setTimeout(() => window.location.reload(), 400);
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches("input.cell")) edit(event.target);
  });

  function cell(value) {
    const td = document.createElement("td");
    td.className = "num";
    td.textContent = value === null || value === undefined ? "—" : Math.round(value).toLocaleString();
    return td;
  }

  async function expand(button) {
    const family = button.dataset.family;
    const by = button.dataset.by;
    const detail = document.querySelector(`tbody.detail[data-family="${CSS.escape(family)}"]`);
    if (!detail.hidden && detail.dataset.by === by) {
      detail.hidden = true;
      return;
    }
    const params = new URLSearchParams({ level: by, family_code: family, page_size: "5000" });
    const response = await fetch(`${config.api}?${params}`, { credentials: "same-origin",
                                                               headers: { Accept: "application/json" } });
    const data = await response.json();
    const key = by === "product" ? "product_sku" : "territory_code";
    const rows = new Map();
    for (const row of data.results) {
      if (!rows.has(row[key])) rows.set(row[key], {});
      rows.get(row[key])[row.period_start] = row;
    }
    detail.replaceChildren();
    for (const [code, cells] of rows) {
      for (const measure of ["statistical", "sales_override", "consensus", "feasible"]) {
        const tr = document.createElement("tr");
        tr.className = "sub m-" + measure;
        const th = document.createElement("th");
        th.textContent = measure !== "statistical" ? "" : code === null ? config.messages.no_territory : code;
        tr.appendChild(th);
        const label = document.createElement("td");
        label.textContent = measure.replace("_", " ");
        tr.appendChild(label);
        let total = 0;
        for (const period of config.periods) {
          const row = cells[period];
          const value = row ? row[measure] : null;
          total += value || 0;
          if (row && config.editable.includes(measure)) {
            const td = document.createElement("td");
            td.className = "num";
            const input = document.createElement("input");
            Object.assign(input, { type: "number", min: 0, step: 1, className: "cell" });
            input.value = value === null ? "" : value;
            input.defaultValue = input.value;
            Object.assign(input.dataset, { level: by, family_code: family, period: period, measure: measure,
                                           etag: row.etag });
            if (code === null) input.dataset.noTerritory = key;
            else input.dataset[key] = code;
            if (by === "product") delete input.dataset.family_code;
            td.appendChild(input);
            tr.appendChild(td);
          } else {
            tr.appendChild(cell(value));
          }
        }
        tr.appendChild(cell(total));
        detail.appendChild(tr);
      }
    }
    detail.dataset.by = by;
    detail.hidden = false;
  }

  document.addEventListener("click", (event) => {
    if (event.target.matches("button.expand")) expand(event.target);
  });
})();
