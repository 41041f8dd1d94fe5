/* Draws the ECharts charts of a page from the JSON the server wrote next to them.
 *
 * Markup: <div class="chart" data-chart="ID"></div> and <script id="ID" type="application/json">
 * holding {type: "line" | "bar" | "pyramid", ...}. Parts loaded later by htmx are drawn when
 * they arrive (htmx.onLoad); a chart is drawn once.
 */
(function () {
  "use strict";

  // Tooltips drawn on the canvas: ECharts' HTML tooltips are written with inline style
  // attributes, which the Content-Security-Policy (style-src 'self') refuses.
  var TOOLTIP = "richText";

  var COLORS = ["#0b6e4f", "#c2410c", "#1d4ed8", "#7c3aed", "#b45309", "#0e7490"];

  function line(spec) {
    return {
      color: COLORS,
      tooltip: { trigger: "axis", renderMode: TOOLTIP },
      legend: { top: 0, show: spec.series.length > 1 },
      grid: { left: 8, right: 16, top: spec.series.length > 1 ? 32 : 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: spec.years, boundaryGap: false },
      yAxis: { type: "value", scale: true },
      series: spec.series.map(function (s) {
        return { name: s.name, type: "line", data: s.data, connectNulls: false, symbolSize: 6 };
      }),
    };
  }

  function bar(spec) {
    // Highest first, drawn top-down.
    return {
      color: COLORS,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: TOOLTIP },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: spec.labels.slice().reverse() },
      series: [{ name: spec.name, type: "bar", data: spec.values.slice().reverse() }],
    };
  }

  function pyramid(spec) {
    // Men to the left (negative values, shown without the sign), women to the right.
    var abs = function (v) { return Math.abs(v); };
    return {
      color: ["#1d4ed8", "#c2410c"],
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        valueFormatter: abs,
        renderMode: TOOLTIP,
      },
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "value", axisLabel: { formatter: abs } },
      yAxis: { type: "category", data: spec.groups, axisTick: { show: false } },
      series: [
        {
          name: spec.maleName,
          type: "bar",
          stack: "sex",
          data: spec.male.map(function (v) { return -v; }),
        },
        { name: spec.femaleName, type: "bar", stack: "sex", data: spec.female },
      ],
    };
  }

  var BUILDERS = { line: line, bar: bar, pyramid: pyramid };

  function draw(root) {
    if (typeof echarts === "undefined" || !root || !root.querySelectorAll) return;
    // htmx hands over each element it inserts, which may be a chart itself.
    var charts = Array.prototype.slice.call(root.querySelectorAll("[data-chart]"));
    if (root.matches && root.matches("[data-chart]")) charts.push(root);
    charts.forEach(function (el) {
      if (el.dataset.drawn) return;
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      var build = BUILDERS[spec.type];
      if (!build) return;
      var chart = echarts.init(el);
      chart.setOption(build(spec));
      el.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function start() {
    draw(document);
    if (window.htmx) window.htmx.onLoad(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
