"use strict";
/* Sortable tables: click (or Enter on) a header to sort by that column; cells sort by data-sort when given. */
(function () {
  function key(td) {
    var raw = td.hasAttribute("data-sort") ? td.getAttribute("data-sort") : td.textContent.trim();
    var num = parseFloat(raw);
    return isNaN(num) || !/^[-+]?[0-9.eE+-]+$/.test(raw) ? {n: null, s: raw} : {n: num, s: raw};
  }
  function sortBy(th) {
    var table = th.closest("table"), body = table.tBodies[0], col = th.cellIndex;
    var asc = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.children, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]), c;
      if (x.n !== null && y.n !== null) c = x.n - y.n; else c = x.s.localeCompare(y.s);
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll("table.sortable th").forEach(function (th) {
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") sortBy(th); });
  });
})();

/* The weights control: the same scoring rule as BidComparison.scores (each criterion scaled so the best
   bid gets 1 and the worst 0, weighted, 0-100) and the same order as BidComparison.ranked (rank, then
   fund outlay). */
(function () {
  var node = document.getElementById("bid-data");
  if (!node) return;
  var data = JSON.parse(node.textContent);
  var inputs = document.querySelectorAll("#weights input[data-criterion]");
  var body = document.querySelector("#ranking tbody"), error = document.getElementById("weights-error");

  function scores(w) {
    var n = data.bids.length, total = new Array(n).fill(0), sum = 0;
    data.order.forEach(function (crit) {
      var good = data.bids.map(function (b) {
        var v = b.metrics[crit];
        return v === null ? NaN : (data.criteria[crit] === "max" ? v : -v);
      });
      var finite = good.filter(function (g) { return !isNaN(g); });
      var lo = Math.min.apply(null, finite), hi = Math.max.apply(null, finite), span = hi - lo;
      for (var i = 0; i < n; i++) total[i] += w[crit] * (span > 0 ? (good[i] - lo) / span : 1);
    });
    data.order.forEach(function (crit) { sum += w[crit]; });
    return total.map(function (t) { return 100 * t / sum; });
  }

  function render(w) {
    var s = scores(w), idx = data.bids.map(function (_, i) { return i; });
    var rank = s.map(function (x) { return 1 + s.filter(function (y) { return y > x; }).length; });
    idx.sort(function (a, b) {
      return rank[a] - rank[b] || data.bids[a].metrics.fund_outlay_per_capita - data.bids[b].metrics.fund_outlay_per_capita;
    });
    var rows = Array.prototype.slice.call(body.rows), byKey = {};
    rows.forEach(function (r) { byKey[r.getAttribute("data-key")] = r; });
    idx.forEach(function (i) {
      var row = byKey[data.bids[i].key];
      row.cells[0].textContent = rank[i];
      row.cells[0].setAttribute("data-sort", rank[i]);
      row.cells[2].textContent = s[i].toFixed(2);
      row.cells[2].setAttribute("data-sort", s[i]);
      body.appendChild(row);
    });
    document.getElementById("ranking").setAttribute("data-weights", JSON.stringify(w));
  }

  function update() {
    var w = {}, sum = 0, bad = false;
    inputs.forEach(function (el) {
      var v = parseFloat(el.value);
      if (isNaN(v) || v < 0 || !isFinite(v)) bad = true;
      w[el.getAttribute("data-criterion")] = v;
      sum += v;
    });
    if (bad || !(sum > 0)) { error.textContent = data.weights_error; return; }
    error.textContent = "";
    render(w);
  }
  inputs.forEach(function (el) { el.addEventListener("input", update); el.addEventListener("change", update); });
  document.getElementById("weights-reset").addEventListener("click", function () {
    inputs.forEach(function (el) { el.value = data.weights[el.getAttribute("data-criterion")]; });
    update();
  });
})();
