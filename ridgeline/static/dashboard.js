/* The live dashboard: polls /api/changes once a second and redraws the charts when
 * the ledger's fingerprint moves, without reloading the page. */
(function () {
  "use strict";
  var POLL_MS = 1000;
  var state = {stamp: null, updates: 0, objectives: [], evolution: null, pareto: null};
  window.ridgelineDashboard = state;

  var status = document.getElementById("status");
  var select = document.getElementById("objective");
  var logBox = document.getElementById("log-scale");

  function getJSON(path) {
    return fetch(path, {headers: {"Accept": "application/json"}}).then(function (response) {
      if (!response.ok) { throw new Error(path + " answered " + response.status); }
      return response.json();
    });
  }

  function fillObjectives(objectives) {
    var chosen = select.value;
    state.objectives = objectives;
    select.textContent = "";
    objectives.forEach(function (o) {
      var option = document.createElement("option");
      option.value = o.name; option.textContent = o.name;
      select.appendChild(option);
    });
    if (chosen && objectives.some(function (o) { return o.name === chosen; })) {
      select.value = chosen;
    }
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "\u2013" : text;
    row.appendChild(td);
  }

  function fillLatest(page) {
    var body = document.querySelector("#latest tbody");
    body.textContent = "";
    page.items.forEach(function (run) {
      var row = document.createElement("tr");
      var metrics = Object.keys(run.metrics).map(function (k) {
        return k + "=" + run.metrics[k];
      }).join(" ");
      [run.id, run.at, run.version, run.intent, run.outcome, metrics, run.description]
        .forEach(function (text) { cell(row, text); });
      body.appendChild(row);
    });
  }

  function drawEvolution() {
    if (state.evolution) {
      Ridgeline.evolution(document.getElementById("evolution"), state.evolution,
                          {log: logBox.checked});
    }
  }

  function refresh(stamp, runs) {
    return getJSON("/api/objectives").then(function (objectives) {
      fillObjectives(objectives);
      var jobs = [getJSON("/api/runs?limit=10&order=newest").then(fillLatest)];
      if (objectives.length) {
        var name = encodeURIComponent(select.value || objectives[0].name);
        jobs.push(getJSON("/api/charts/evolution?objective=" + name).then(function (data) {
          state.evolution = data; drawEvolution();
        }));
      }
      var box = document.getElementById("pareto-box");
      box.hidden = objectives.length < 2;
      if (objectives.length >= 2) {
        jobs.push(getJSON("/api/charts/pareto").then(function (data) {
          state.pareto = data;
          Ridgeline.pareto(document.getElementById("pareto"), data);
        }));
      }
      return Promise.all(jobs);
    }).then(function () {
      state.stamp = stamp;
      state.updates += 1;
      status.className = "status";
      status.textContent = runs + " runs \u00b7 updated " + new Date().toLocaleTimeString();
    });
  }

  function poll() {
    getJSON("/api/changes").then(function (change) {
      if (change.stamp !== state.stamp) { return refresh(change.stamp, change.runs); }
    }).catch(function (error) {
      status.className = "status error";
      status.textContent = "cannot reach the ledger: " + error.message;
    }).then(function () { setTimeout(poll, POLL_MS); });
  }

  select.addEventListener("change", function () { state.stamp = null; });
  logBox.addEventListener("change", drawEvolution);
  poll();
})();
