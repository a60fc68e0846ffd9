// A campaign's dashboard: the daily series of each leg and delivered vs promised, drawn with
// Apache ECharts (served from node_modules, see settings.STATICFILES_DIRS) from the data the page
// carries in <script type="application/json" id="campaign-chart-data"> — the
// Content-Security-Policy forbids inline scripts. Labels and tooltip figures come translated and
// formatted from the server. Tooltips are drawn in the canvas (renderMode "richText"): an HTML
// tooltip would carry style attributes, which the policy blocks. Without ECharts the page still
// shows every figure as text. Also: the copy buttons of the tracking links.
(function () {
  "use strict";

  var FONT = getComputedStyle(document.body).fontFamily;
  var INK = "#3d4a66";
  var LINE = "#e3e7ef";

  // Copy buttons work without the charts.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) { return; }
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      input.select();
      var done = function () {
        button.textContent = button.getAttribute("data-copied");
        setTimeout(function () { button.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });

  var source = document.getElementById("campaign-chart-data");
  if (!source || typeof window.echarts !== "object") { return; }
  var data = JSON.parse(source.textContent);
  var charts = [];

  function base() {
    return {
      textStyle: { fontFamily: FONT, color: INK },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", renderMode: "richText", confine: true },
      legend: { top: 0, left: 0, icon: "roundRect", itemWidth: 12, itemHeight: 8, textStyle: { color: INK } },
      aria: { enabled: true }
    };
  }

  function draw(element, option) {
    if (element.clientWidth < 480) { option.grid.top = 64; }  // the legend wraps on a phone
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(option);
    charts.push(chart);
    element.setAttribute("data-chart-ready", "1");
  }

  data.legs.forEach(function (leg) {
    var element = document.querySelector('[data-chart-leg="' + leg.id + '"]');
    if (!element) { return; }
    var option = base();
    option.xAxis = {
      type: "category", data: data.days, boundaryGap: false,
      axisLine: { lineStyle: { color: LINE } }, axisLabel: { color: INK }
    };
    option.yAxis = {
      type: "value", minInterval: 1,
      splitLine: { lineStyle: { color: LINE } }, axisLabel: { color: INK }
    };
    option.series = leg.series.map(function (s) {
      return {
        name: s.name, type: "line", data: s.data, smooth: true, showSymbol: data.days.length <= 14,
        symbolSize: 6, lineStyle: { width: 2.5, color: s.colour }, itemStyle: { color: s.colour },
        areaStyle: s.key === "clicks" ? { color: s.colour, opacity: 0.08 } : undefined
      };
    });
    draw(element, option);
  });

  ["reach", "value"].forEach(function (kind) {
    var element = document.querySelector('[data-chart-bars="' + kind + '"]');
    if (!element) { return; }
    var figures = data.delivery[kind];
    var option = base();
    option.title = { text: figures.name, right: 0, top: 0, textStyle: { fontSize: 13, fontWeight: 600, color: INK } };
    option.tooltip.formatter = function (params) {
      return params[0].name + "\n" + params.map(function (p) {
        return p.marker + p.seriesName + "  " + figures[p.seriesIndex === 0 ? "delivered" : "promised"][p.dataIndex].text;
      }).join("\n");
    };
    option.xAxis = { type: "category", data: data.delivery.legs, axisLabel: { color: INK, interval: 0 }, axisLine: { lineStyle: { color: LINE } } };
    option.yAxis = { type: "value", splitLine: { lineStyle: { color: LINE } }, axisLabel: { color: INK } };
    option.series = [
      { name: data.labels.delivered, type: "bar", barMaxWidth: 36, data: figures.delivered.map(function (f) { return f.value; }), itemStyle: { color: data.delivery.colours.delivered, borderRadius: [4, 4, 0, 0] } },
      { name: data.labels.promised, type: "bar", barMaxWidth: 36, data: figures.promised.map(function (f) { return f.value; }), itemStyle: { color: data.delivery.colours.promised, borderRadius: [4, 4, 0, 0] } }
    ];
    draw(element, option);
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
