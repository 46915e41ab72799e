// Dashboards: draw each chart from the table beneath it (Chart.js, installed from npm by ./run).
// The table is the chart's source and its accessible alternative: every number drawn is a
// cell's data-value, so the two cannot disagree. Without the library the tables still stand.
(function () {
  "use strict";

  var BRAND = "#2451c7";
  var PALETTE = [BRAND, "#8a94a6", "#137a3a", "#c2410c", "#7a3ec2", "#0e7490"];
  var GOOD = "#1f8a4c";
  var BAD = "#c0392b";
  var GRADE = { red: "#c0392b", yellow: "#d69e2e", green: "#1f8a4c", none: "#9aa4b2", unscored: "#c8ced8" };

  function locale() {
    return document.documentElement.lang || "en";
  }

  function value(cell) {
    var raw = cell ? cell.getAttribute("data-value") : null;
    return raw === null || raw === "" ? null : parseFloat(raw);
  }

  function money(amount, currency) {
    try {
      return new Intl.NumberFormat(locale(), { style: "currency", currency: currency, maximumFractionDigits: 0 }).format(amount);
    } catch (e) {
      return String(Math.round(amount));
    }
  }

  function number(amount, digits) {
    return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(amount);
  }

  function formatter(config) {
    if (config.currency) return function (v) { return money(v, config.currency); };
    if (config.percent) return function (v) { return number(v, 1) + " %"; };
    return function (v) { return number(v, 1); };
  }

  function gradeOf(row) {
    var header = row.cells[0];
    var match = header && header.className.match(/grade-(red|yellow|green|none)/);
    return match ? match[1] : null;
  }

  function alpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }

  function read(table, config) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var index = {};
    headers.forEach(function (th, i) { index[th.getAttribute("data-key")] = i; });
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    return {
      rows: rows,
      labels: rows.map(function (r) { return r.cells[0].textContent.trim(); }),
      series: config.series.filter(function (key) { return key in index; }).map(function (key) {
        var i = index[key];
        return {
          key: key,
          label: headers[i].textContent.trim(),
          data: rows.map(function (r) { return value(r.cells[i]); })
        };
      })
    };
  }

  function waterfall(data, config) {
    var amounts = data.series[0].data;
    var last = amounts.length - 1;
    var running = 0;
    var bars = [];
    var colors = [];
    amounts.forEach(function (amount, i) {
      amount = amount || 0;
      if (i === 0 || i === last) {
        bars.push([0, amount]);
        colors.push(BRAND);
        running = amount;
      } else {
        bars.push([running, running + amount]);
        colors.push(amount >= 0 ? GOOD : BAD);
        running += amount;
      }
    });
    var fmt = formatter(config);
    // Start the axis a little below the lowest level the bars reach, so that steps of a few
    // percent of the MRR stay visible next to the two totals.
    var lowest = Math.min.apply(null, bars.map(function (b) { return Math.max(b[0], b[1]); }).concat(
      bars.slice(1, last).map(function (b) { return Math.min(b[0], b[1]); })));
    var axis = { ticks: { callback: fmt } };
    if (lowest > 0) {
      var step = Math.pow(10, Math.floor(Math.log10(lowest)));
      axis.min = Math.max(0, Math.floor(lowest * 0.9 / step) * step);
    }
    return {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: data.series[0].label, data: bars, backgroundColor: colors, borderRadius: 3 }] },
      options: {
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) { return fmt(amounts[ctx.dataIndex] || 0); } } }
        },
        scales: { y: axis }
      }
    };
  }

  function standard(data, config) {
    var fmt = formatter(config);
    var type = config.type === "line" ? "line" : config.type === "doughnut" ? "doughnut" : "bar";
    var grades = config.colors === "grades" ? data.rows.map(gradeOf) : null;
    var palette = config.palette || PALETTE;
    var datasets = data.series.map(function (s, n) {
      var color = palette[n % palette.length];
      var dataset = { label: s.label, data: s.data };
      if (grades) {
        var shade = data.series.length > 1 && n === 0 ? 0.45 : 1;
        dataset.backgroundColor = grades.map(function (g) { return alpha(GRADE[g] || color, shade); });
        dataset.borderColor = type === "doughnut" ? "#fff" : grades.map(function (g) { return GRADE[g] || color; });
        dataset.borderWidth = type === "doughnut" ? 2 : 1;
      } else if (type === "line") {
        dataset.borderColor = color;
        dataset.backgroundColor = alpha(color, 0.12);
        dataset.fill = true;
        dataset.tension = 0.25;
        dataset.pointRadius = 3;
      } else {
        dataset.backgroundColor = color;
        dataset.borderRadius = 3;
      }
      return dataset;
    });
    var options = {
      plugins: {
        legend: { display: type === "doughnut" || datasets.length > 1, position: "bottom" },
        tooltip: { callbacks: { label: function (ctx) {
          var v = type === "doughnut" ? ctx.parsed : (config.horizontal ? ctx.parsed.x : ctx.parsed.y);
          return ctx.dataset.label + ": " + (v === null ? "no data" : fmt(v));
        } } }
      }
    };
    if (type !== "doughnut") {
      var valueAxis = { beginAtZero: type !== "line", ticks: { callback: fmt } };
      options.scales = config.horizontal ? { x: valueAxis } : { y: valueAxis };
      if (config.horizontal) options.indexAxis = "y";
    }
    return { type: type, data: { labels: data.labels, datasets: datasets }, options: options };
  }

  function draw(table) {
    var figure = document.querySelector('figure[data-chart-for="' + table.id + '"]');
    if (!figure || figure.getAttribute("data-drawn") || !window.Chart || !table.tBodies.length) return;
    var config = JSON.parse(table.getAttribute("data-chart"));
    var data = read(table, config);
    if (!data.series.length || !data.rows.length) return;
    var chart = config.type === "waterfall" ? waterfall(data, config) : standard(data, config);
    chart.options.responsive = true;
    chart.options.maintainAspectRatio = false;
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) chart.options.animation = false;
    new window.Chart(figure.querySelector("canvas"), chart);
    figure.setAttribute("data-drawn", "true");
  }

  function drawAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("table[data-chart]"), draw);
  }

  if (window.Chart) {
    window.Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
    window.Chart.defaults.color = "#5d6878";
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(); });
  } else {
    drawAll();
  }
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.target); });
})();
