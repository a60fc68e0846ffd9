// Progressive enhancement only; every page works without it.
(function () {
  "use strict";

  // Channel table: add and remove rows in the browser (blank rows are ignored by the server).
  var table = document.getElementById("channel-table");
  var addButton = document.getElementById("add-channel-row");
  if (table && addButton) {
    var body = table.tBodies[0];
    var template = body.rows[body.rows.length - 1].cloneNode(true);
    template.classList.remove("has-error");
    template.querySelectorAll(".error").forEach(function (e) { e.remove(); });
    template.querySelectorAll("input").forEach(function (i) { i.value = ""; });
    template.querySelectorAll("select").forEach(function (s) { s.selectedIndex = 0; });
    var wireRemove = function (row) {
      var button = row.querySelector(".js-remove-row");
      button.hidden = false;
      button.addEventListener("click", function () {
        if (body.rows.length > 1) { row.remove(); }
        else { row.querySelectorAll("input").forEach(function (i) { i.value = ""; }); row.querySelector("select").selectedIndex = 0; }
      });
    };
    Array.prototype.forEach.call(body.rows, wireRemove);
    addButton.hidden = false;
    addButton.addEventListener("click", function () {
      var row = template.cloneNode(true);
      body.appendChild(row);
      wireRemove(row);
      row.querySelector("select").focus();
    });
  }

  // Audience percentages: show the running total of each group next to its title.
  document.querySelectorAll("[data-sum-group]").forEach(function (group) {
    var hint = group.querySelector("[data-sum-for]");
    var inputs = group.querySelectorAll("input[type=number]");
    var update = function () {
      var filled = false, total = 0;
      inputs.forEach(function (i) { if (i.value !== "") { filled = true; total += parseFloat(i.value) || 0; } });
      hint.textContent = filled ? "Σ " + (Math.round(total * 10) / 10) + "%" : "";
      hint.classList.toggle("is-bad", filled && Math.abs(total - 100) > 1);
      hint.classList.toggle("is-good", filled && Math.abs(total - 100) <= 1);
    };
    inputs.forEach(function (i) { i.addEventListener("input", update); });
    update();
  });

  // Matcher page: follow a training run until it finishes, then reload to show the result.
  var run = document.getElementById("training-run");
  if (run && run.getAttribute("data-finished") !== "true" && window.fetch) {
    var bar = run.querySelector(".progress");
    var fill = bar.querySelector("span");
    var stateBadge = run.querySelector("[data-run-state]");
    var progressText = run.querySelector("[data-run-progress]");
    var messageText = run.querySelector("[data-run-message]");
    var poll = function () {
      fetch(run.getAttribute("data-status-url"), { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (data) {
          var pct = Math.round(Math.max(0, Math.min(1, data.progress || 0)) * 100);
          fill.className = "fill-" + pct;
          bar.setAttribute("aria-valuenow", String(pct));
          progressText.textContent = pct + "%";
          messageText.textContent = data.message || "—";
          stateBadge.textContent = data.state_label;
          stateBadge.className = "badge badge-run-" + data.state;
          run.setAttribute("data-state", data.state);
          if (data.finished) { window.location.replace(run.getAttribute("data-result-url")); }
          else { window.setTimeout(poll, 1000); }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 500);
  }
})();
