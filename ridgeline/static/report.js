/* Draws the charts of a report or chart page from its embedded JSON. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("ridgeline-data").textContent);
  var logBox = document.getElementById("log-scale");

  function drawEvolutions() {
    var log = logBox ? logBox.checked : data.log;
    (data.evolution || []).forEach(function (chart, index) {
      var canvas = document.getElementById("evolution-" + index);
      if (canvas) { Ridgeline.evolution(canvas, chart, {log: log}); }
    });
  }

  if (logBox) {
    logBox.checked = !!data.log;
    logBox.addEventListener("change", drawEvolutions);
  }
  drawEvolutions();
  if (data.pareto && document.getElementById("pareto")) {
    Ridgeline.pareto(document.getElementById("pareto"), data.pareto);
  }
})();
