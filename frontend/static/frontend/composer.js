// The swap composer, progressively enhanced. Without this file (or without htmx) the form
// still works: "Recalculate" posts it and the server renders the balance.
// With htmx loaded, the form posts itself to the preview URL as the person types (hx-post on
// the form) and the server answers with the meter and each row's value; this file only adds
// and removes rows, applies a suggestion, and keeps Enter from sending the proposal.
(function () {
  "use strict";

  var form = document.getElementById("composer");
  if (!form) { return; }

  var changed = function () {
    form.dispatchEvent(new Event("change", { bubbles: true }));
  };

  // htmx recalculates live: the "Recalculate" button is only for pages without it.
  if (window.htmx) {
    // Once the form is being sent, a late preview (a field's change on blur) is pointless.
    var sending = false;
    form.addEventListener("submit", function () { sending = true; });
    form.addEventListener("htmx:beforeRequest", function (e) { if (sending) { e.preventDefault(); } });
    form.querySelectorAll("[data-recalculate]").forEach(function (b) { b.hidden = true; });
    // Enter in a field recalculates instead of sending the proposal half-written.
    form.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && e.target.tagName === "INPUT") { e.preventDefault(); changed(); }
    });
  }

  var nextIndex = function (kind) {
    var max = -1;
    form.querySelectorAll("[name^='" + kind + "-']").forEach(function (el) {
      var m = el.name.match(/^[a-z]+-(\d+)-/);
      if (m) { max = Math.max(max, parseInt(m[1], 10)); }
    });
    return max + 1;
  };

  var wireRemove = function (row) {
    var button = row.querySelector("[data-remove-row]");
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () { row.remove(); changed(); });
  };

  var addRow = function (kind) {
    var template = form.querySelector("template[data-row-template='" + kind + "']");
    var rows = form.querySelector("[data-rows='" + kind + "']");
    if (!template || !rows) { return null; }
    var html = template.innerHTML.replace(/__i__/g, String(nextIndex(kind)));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rows.appendChild(row);
    wireRemove(row);
    return row;
  };

  form.querySelectorAll("[data-rows] > .placement-row").forEach(wireRemove);
  form.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var row = addRow(button.getAttribute("data-add-row"));
      if (row) { var first = row.querySelector("select, input"); if (first) { first.focus(); } }
    });
  });

  // A suggestion from the meter ("add 1 group broadcast to 8,000 reach"): fill an empty row of
  // yours, or a new one, and recalculate.
  var meter = document.getElementById("meter");
  var showSuggestButtons = function () {
    meter.querySelectorAll("[data-suggest]").forEach(function (b) { b.hidden = false; });
  };
  if (meter) {
    showSuggestButtons();
    document.body.addEventListener("htmx:afterSwap", function (e) {
      if (e.target === meter) { showSuggestButtons(); }
    });
    meter.addEventListener("click", function (e) {
      var button = e.target.closest("[data-suggest]");
      if (!button) { return; }
      var row = null;
      form.querySelectorAll("[data-rows='mine'] > .placement-row").forEach(function (r) {
        var pick = r.querySelector("select[name$='-pick']");
        var qty = r.querySelector("input[name$='-quantity']");
        if (!row && pick && !pick.value && qty && !qty.value) { row = r; }
      });
      row = row || addRow("mine");
      if (!row) { return; }
      row.querySelector("select[name$='-pick']").value = button.getAttribute("data-pick");
      row.querySelector("input[name$='-quantity']").value = button.getAttribute("data-quantity");
      changed();
    });
  }
})();
