// clusterbench leaderboard site: sortable columns and filters. Written for the suite (no library,
// no network); the page is complete without it, this only sorts and hides rows.
(function () {
  "use strict";

  function cellValue(row, index) {
    var cell = row.cells[index];
    var v = cell.getAttribute("data-value");
    if (v === null) v = cell.textContent.trim();
    var n = parseFloat(v);
    return { num: v !== "" && !isNaN(n) && isFinite(v), n: n, s: v.toLowerCase() };
  }

  function sortTable(table, index, button) {
    var th = button.closest("th");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      if (x.num && y.num) return ascending ? x.n - y.n : y.n - x.n;
      if (x.num !== y.num) return x.num ? -1 : 1;  // empty / text cells after the numbers
      var r = x.s < y.s ? -1 : x.s > y.s ? 1 : 0;
      return ascending ? r : -r;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function applyFilters() {
    var metric = document.getElementById("f-metric").value;
    var budget = document.getElementById("f-budget").value;
    var sources = {};
    Array.prototype.forEach.call(document.querySelectorAll("input[name=source]"), function (box) {
      sources[box.value] = box.checked;
    });
    var shown = 0;
    Array.prototype.forEach.call(document.querySelectorAll("section.board"), function (section) {
      var visible = section.getAttribute("data-metric") === metric;
      section.hidden = !visible;
      Array.prototype.forEach.call(section.querySelectorAll("tbody tr"), function (row) {
        var keep = sources[row.getAttribute("data-source")] &&
          (budget === "" || row.getAttribute("data-budget") === budget);
        row.hidden = !keep;
        if (keep && visible) shown += 1;
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("section.cross"), function (section) {
      section.hidden = section.getAttribute("data-metric") !== metric;
    });
    var status = document.getElementById("filter-status");
    if (status) status.textContent = shown + " rows shown";
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
        var button = th.querySelector("button");
        if (button) button.addEventListener("click", function () { sortTable(table, index, button); });
      });
    });
    var form = document.getElementById("filters");
    if (form) {
      form.addEventListener("change", applyFilters);
      form.addEventListener("submit", function (e) { e.preventDefault(); });
      applyFilters();
    }
  });
})();
