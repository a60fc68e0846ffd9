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
})();
