/* Ridgeline's interactive charts, drawn with Chart.js from the JSON that
 * ridgeline.analysis.chartdata produces. Used by the self-contained report and by
 * the live dashboard; needs nothing from the network. */
(function () {
  "use strict";

  var COLOURS = {
    attempt: "#9a9a9a", record: "#2ca02c", check: "#ff8c1a", crash: "#d62728",
    frontier: "#111111", baseline: "#444444", ideal: "#7b3fb5", calls: "#1f77b4"
  };
  var LEGEND = {
    attempt: "attempt (not a record)", record: "record",
    check: "validation or debug", crash: "crash (at best so far)"
  };
  var KINDS = ["attempt", "check", "crash", "record"];

  function axisTitle(objective) {
    return objective.unit ? objective.name + " (" + objective.unit + ")" : objective.name;
  }

  function dotTooltip(dot) {
    var lines = [
      "run " + dot.run + (dot.version ? " \u00b7 " + dot.version : ""),
      "value: " + (dot.measured === null ? "none" : dot.measured),
      "intent: " + dot.intent + ", outcome: " + dot.outcome
    ];
    if (dot.commit) { lines.push("commit: " + dot.commit); }
    if (dot.description) { lines.push(dot.description); }
    return lines;
  }

  /* Bands, idle gaps and version labels are drawn straight onto the canvas: Chart.js
   * has no annotation layer of its own and a plugin download is not an option. */
  var evolutionDecor = {
    id: "ridgelineEvolution",
    beforeDatasetsDraw: function (chart) {
      var data = chart.options.plugins.ridgelineEvolution.data;
      var ctx = chart.ctx, x = chart.scales.x, area = chart.chartArea;
      ctx.save();
      data.bands.forEach(function (band) {
        var left = x.getPixelForValue(band.start) - 3;
        var right = x.getPixelForValue(band.end) + 3;
        ctx.fillStyle = band.kind === "crashes" ? "rgba(214,39,40,0.09)" : "rgba(255,140,26,0.10)";
        ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
        ctx.fillStyle = band.kind === "crashes" ? COLOURS.crash : COLOURS.check;
        ctx.font = "11px sans-serif";
        ctx.textAlign = "center";
        ctx.fillText(band.kind + " (" + band.count + ")", (left + right) / 2, area.top + 12);
      });
      ctx.strokeStyle = "#777";
      ctx.setLineDash([2, 3]);
      data.gaps.forEach(function (gap) {
        var px = x.getPixelForValue(gap.hours);
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
      });
      ctx.restore();
    },
    afterDatasetsDraw: function (chart) {
      var data = chart.options.plugins.ridgelineEvolution.data;
      var ctx = chart.ctx, x = chart.scales.x, y = chart.scales.y;
      ctx.save();
      ctx.font = "11px sans-serif";
      data.labels.forEach(function (label, index) {
        var late = label.why === "out of order";
        ctx.fillStyle = late ? "#a65300" : "#145a14";
        ctx.font = (late ? "italic " : "") + "11px sans-serif";
        var dy = index % 2 === 0 ? -7 : 14;
        ctx.fillText(late ? label.text + " (late)" : label.text,
          x.getPixelForValue(label.hours) + 5, y.getPixelForValue(label.value) + dy);
      });
      ctx.restore();
    }
  };

  function horizontal(value, span, label, colour, dash) {
    return {
      type: "line", label: label, data: [{x: 0, y: value}, {x: span, y: value}],
      borderColor: colour, borderDash: dash, borderWidth: 1.2, pointRadius: 0,
      pointHitRadius: 0, order: 5
    };
  }

  function evolutionConfig(data, options) {
    var objective = data.objective;
    var unit = objective.unit ? " " + objective.unit : "";
    var datasets = KINDS.map(function (kind) {
      var dots = data.dots.filter(function (d) { return d.kind === kind; });
      return {
        type: "scatter", label: LEGEND[kind] + " (" + dots.length + ")", kind: kind,
        data: dots.map(function (d) { return {x: d.hours, y: d.value, dot: d}; }),
        backgroundColor: COLOURS[kind], borderColor: kind === "record" ? "#000" : COLOURS[kind],
        borderWidth: kind === "record" ? 1 : 0, pointRadius: kind === "record" ? 5 : 3,
        pointStyle: kind === "crash" ? "crossRot" : "circle", order: kind === "attempt" ? 4 : 2
      };
    });
    datasets.push({
      type: "line", label: "frontier", kind: "staircase",
      data: data.staircase.map(function (p) { return {x: p[0], y: p[1]}; }),
      borderColor: COLOURS.frontier, borderWidth: 1.8, pointRadius: 0, pointHitRadius: 0,
      order: 1
    });
    if (objective.baseline !== null) {
      datasets.push(horizontal(objective.baseline, data.span_hours,
        "baseline " + objective.baseline + unit, COLOURS.baseline, [6, 4]));
    }
    if (objective.ideal !== null) {
      datasets.push(horizontal(objective.ideal, data.span_hours,
        "ideal " + objective.ideal + unit, COLOURS.ideal, [2, 3]));
    }
    var scales = {
      x: {type: "linear", title: {display: true, text: timeTitle(data)}},
      y: {type: options.log ? "logarithmic" : "linear",
          title: {display: true, text: axisTitle(objective)}}
    };
    if (data.tool_calls.length) {
      datasets.push({
        type: "line", label: "cumulative tool calls", kind: "calls", yAxisID: "calls",
        data: data.tool_calls.map(function (p) { return {x: p[0], y: p[1]}; }),
        borderColor: COLOURS.calls, borderWidth: 1, pointRadius: 0, pointHitRadius: 0,
        order: 6
      });
      scales.calls = {position: "right", beginAtZero: true, grid: {drawOnChartArea: false},
                      title: {display: true, text: "cumulative tool calls"}};
    }
    return {
      type: "scatter",
      data: {datasets: datasets},
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
        scales: scales,
        plugins: {
          ridgelineEvolution: {data: data},
          title: {display: true, text: objective.name + " over active time (" +
                  (objective.direction === "max" ? "higher" : "lower") + " is better)"},
          tooltip: {filter: function (item) { return !!item.raw.dot; },
                    callbacks: {label: function (item) { return dotTooltip(item.raw.dot); }}}
        }
      },
      plugins: [evolutionDecor]
    };
  }

  function timeTitle(data) {
    var title = "active hours since the first run";
    if (data.gaps.length) {
      title += " (" + data.gaps.length + " idle gap" + (data.gaps.length > 1 ? "s" : "") +
        " over " + data.idle_gap_hours + " h cut short, dotted)";
    }
    return title;
  }

  /* Arrows along the frontier path, regime names beside their clusters and the
   * marker of the better corner. */
  var paretoDecor = {
    id: "ridgelinePareto",
    afterDatasetsDraw: function (chart) {
      var data = chart.options.plugins.ridgelinePareto.data;
      var ctx = chart.ctx, x = chart.scales.x, y = chart.scales.y, area = chart.chartArea;
      var path = data.frontier.map(function (p) { return [p.x, p.y]; });
      // Start from the baseline, unless a committed version sits on it already.
      if (data.baseline && !(path.length && path[0][0] === data.baseline[0] &&
                             path[0][1] === data.baseline[1])) {
        path.unshift(data.baseline);
      }
      ctx.save();
      ctx.strokeStyle = COLOURS.frontier; ctx.fillStyle = COLOURS.frontier; ctx.lineWidth = 1.3;
      for (var i = 1; i < path.length; i++) {
        arrow(ctx, x.getPixelForValue(path[i - 1][0]), y.getPixelForValue(path[i - 1][1]),
              x.getPixelForValue(path[i][0]), y.getPixelForValue(path[i][1]));
      }
      ctx.font = "bold 11px sans-serif"; ctx.fillStyle = "#8c1c1c"; ctx.textAlign = "center";
      var middle = {};
      data.clusters.forEach(function (c) {
        middle[c.regime] = c.y;
        var lowest = Math.min.apply(null, data.failed.filter(function (p) {
          return (p.regime || "no regime") === c.regime;
        }).map(function (p) { return p.y; }));
        // Names below the middle slant downwards; write the regime beneath them.
        ctx.fillText(c.regime + " (" + c.runs.length + " failed)", x.getPixelForValue(c.x),
          y.getPixelForValue(lowest) + (c.runs.length > 1 ? 88 : 22));
      });
      ctx.textAlign = "left"; ctx.font = "11px sans-serif"; ctx.fillStyle = "#145a14";
      data.frontier.forEach(function (p) {
        ctx.fillText(p.version || "run " + p.run, x.getPixelForValue(p.x) + 6,
          y.getPixelForValue(p.y) - 6);
      });
      ctx.fillStyle = "#8c1c1c";
      data.failed.forEach(function (p) {
        // Failed trials crowd together: slant names up or down, away from the middle.
        var down = p.y < middle[p.regime || "no regime"];
        ctx.save();
        ctx.translate(x.getPixelForValue(p.x) + 5, y.getPixelForValue(p.y) + (down ? 6 : -6));
        ctx.rotate(down ? 0.7 : -0.7);
        ctx.fillText(p.version || "run " + p.run, 0, 0);
        ctx.restore();
      });
      var cx = data.better[0] > 0 ? area.right - 10 : area.left + 10;
      var cy = data.better[1] > 0 ? area.top + 10 : area.bottom - 10;
      ctx.strokeStyle = "#145a14"; ctx.fillStyle = "#145a14"; ctx.lineWidth = 1.8;
      arrow(ctx, cx - 45 * data.better[0], cy + 45 * data.better[1], cx, cy);
      ctx.font = "bold 12px sans-serif"; ctx.textAlign = "center";
      ctx.fillText("better", cx - 55 * data.better[0], cy + 58 * data.better[1]);
      ctx.restore();
    }
  };

  function arrow(ctx, x0, y0, x1, y1) {
    var angle = Math.atan2(y1 - y0, x1 - x0), head = 8;
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - head * Math.cos(angle - 0.4), y1 - head * Math.sin(angle - 0.4));
    ctx.lineTo(x1 - head * Math.cos(angle + 0.4), y1 - head * Math.sin(angle + 0.4));
    ctx.closePath(); ctx.fill();
  }

  function paretoTooltip(point) {
    var lines = ["run " + point.run + (point.version ? " \u00b7 " + point.version : ""),
                 "status: " + (point.status || "none") + ", regime: " + (point.regime || "none"),
                 "intent: " + point.intent + ", outcome: ok"];
    if (point.commit) { lines.push("commit: " + point.commit); }
    if (point.description) { lines.push(point.description); }
    return lines;
  }

  function paretoConfig(data) {
    function points(items) {
      return items.map(function (p) { return {x: p.x, y: p.y, point: p}; });
    }
    var datasets = [
      {label: "committed versions", kind: "frontier", data: points(data.frontier),
       backgroundColor: COLOURS.record, borderColor: "#000", borderWidth: 1, pointRadius: 6},
      {label: "failed trials", kind: "failed", data: points(data.failed),
       borderColor: COLOURS.crash, pointStyle: "crossRot", pointRadius: 7, borderWidth: 2},
      {label: "other versions", kind: "others", data: points(data.others),
       backgroundColor: COLOURS.attempt, pointRadius: 4}
    ];
    if (data.baseline) {
      datasets.push({label: "baseline", kind: "baseline", pointStyle: "rect", pointRadius: 6,
        data: [{x: data.baseline[0], y: data.baseline[1]}], backgroundColor: COLOURS.baseline});
    }
    if (data.ideal) {
      datasets.push({label: "ideal", kind: "ideal", pointStyle: "star", pointRadius: 9,
        borderWidth: 2, data: [{x: data.ideal[0], y: data.ideal[1]}],
        borderColor: COLOURS.ideal});
    }
    function word(o) { return o.direction === "max" ? "higher is better" : "lower is better"; }
    return {
      type: "scatter",
      data: {datasets: datasets},
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
        layout: {padding: 20},
        scales: {
          x: {title: {display: true, text: axisTitle(data.x_objective) + ", " +
                      word(data.x_objective)}, grace: "10%"},
          y: {title: {display: true, text: axisTitle(data.y_objective) + ", " +
                      word(data.y_objective)}, grace: "10%"}
        },
        plugins: {
          ridgelinePareto: {data: data},
          title: {display: true, text: data.y_objective.name + " against " +
                  data.x_objective.name + ": versions in the order found"},
          tooltip: {callbacks: {label: function (item) {
            return item.raw.point ? paretoTooltip(item.raw.point) : item.dataset.label;
          }}}
        }
      },
      plugins: [paretoDecor]
    };
  }

  function draw(canvas, config) {
    var old = Chart.getChart(canvas);
    if (old) { old.destroy(); }
    return new Chart(canvas, config);
  }

  window.Ridgeline = {
    evolution: function (canvas, data, options) {
      return draw(canvas, evolutionConfig(data, options || {}));
    },
    pareto: function (canvas, data) { return draw(canvas, paretoConfig(data)); }
  };
})();
