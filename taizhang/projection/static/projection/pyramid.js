/* The projection page's population pyramid: one scenario at a time, one year at a time.
 *
 * Markup: <div data-projection-pyramid="ID"> with <script id="ID" type="application/json">
 * holding {groups, years, maleName, femaleName, scenarios: [{name, label, male: [[…]…],
 * female: [[…]…], total: […]}]}; a range input [data-pyramid-year] picks the year, a select
 * [data-pyramid-scenario] the scenario, a button [data-pyramid-play] plays the years in turn.
 * The horizontal axis keeps one scale over all years and scenarios, so that bars can be
 * compared from one year to the next.
 */
(function () {
  "use strict";

  var STEP_MS = 400;

  function maximum(spec) {
    var top = 0;
    spec.scenarios.forEach(function (s) {
      [s.male, s.female].forEach(function (byYear) {
        byYear.forEach(function (values) {
          values.forEach(function (v) { if (v > top) top = v; });
        });
      });
    });
    return nice(top);
  }

  function nice(value) {
    // The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) at or above value.
    if (!(value > 0)) return 1;
    var power = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * power >= value) return steps[i] * power;
    }
    return 10 * power;
  }

  function option(spec, scenario, year, top) {
    var s = spec.scenarios[scenario];
    var abs = function (v) { return Math.abs(Math.round(v)); };
    return {
      color: ["#1d4ed8", "#c2410c"],
      title: {
        text: spec.years[year] + " · " + s.label + " · " + Math.round(s.total[year]).toLocaleString(),
        left: "center",
        textStyle: { fontSize: 14 },
      },
      // Drawn on the canvas: HTML tooltips carry inline styles, which the CSP refuses.
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        valueFormatter: abs,
        renderMode: "richText",
      },
      legend: { top: 24 },
      grid: { left: 8, right: 24, top: 56, bottom: 8, containLabel: true },
      xAxis: { type: "value", min: -top, max: top, axisLabel: { formatter: abs } },
      yAxis: {
        type: "category",
        data: spec.groups,
        axisTick: { show: false },
        axisLabel: { interval: 4 },
      },
      animationDurationUpdate: STEP_MS - 50,
      series: [
        {
          name: spec.maleName,
          type: "bar",
          stack: "sex",
          barCategoryGap: "10%",
          data: s.male[year].map(function (v) { return -v; }),
        },
        { name: spec.femaleName, type: "bar", stack: "sex", data: s.female[year] },
      ],
    };
  }

  function setUp(el) {
    if (el.dataset.drawn || typeof echarts === "undefined") return;
    var source = document.getElementById(el.dataset.projectionPyramid);
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var section = el.closest("section") || document;
    var slider = section.querySelector("[data-pyramid-year]");
    var label = section.querySelector("[data-pyramid-label]");
    var choice = section.querySelector("[data-pyramid-scenario]");
    var play = section.querySelector("[data-pyramid-play]");
    var chart = echarts.init(el);
    var top = maximum(spec);
    var timer = null;

    function show() {
      var year = slider ? Number(slider.value) : 0;
      var scenario = choice ? Number(choice.value) : 0;
      if (label) label.textContent = spec.years[year];
      chart.setOption(option(spec, scenario, year, top));
    }

    function stop() {
      if (timer) window.clearInterval(timer);
      timer = null;
      if (play) play.textContent = play.dataset.play;
    }

    function start() {
      if (!slider) return;
      if (Number(slider.value) >= spec.years.length - 1) slider.value = 0;
      play.textContent = play.dataset.pause;
      timer = window.setInterval(function () {
        var next = Number(slider.value) + 1;
        if (next > spec.years.length - 1) { stop(); return; }
        slider.value = next;
        show();
      }, STEP_MS);
    }

    if (slider) slider.addEventListener("input", function () { stop(); show(); });
    if (choice) choice.addEventListener("change", show);
    if (play) play.addEventListener("click", function () { if (timer) stop(); else start(); });
    window.addEventListener("resize", function () { chart.resize(); });
    el.dataset.drawn = "1";
    show();
  }

  function start() {
    document.querySelectorAll("[data-projection-pyramid]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
