// jobqueue dashboard: our only script (CSP allows no other). It polls the
// JSON API for the overview's live numbers, refreshes the charts, asks
// before destructive form actions and wires "select all".
(function () {
  "use strict";
  var meta = function (name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : "";
  };
  var apiBase = meta("api-base");
  var fmtCount = function (n) { return Number(n).toLocaleString("en-US"); };
  var fmtRate = function (r) { return (r >= 100 ? r.toFixed(0) : r.toFixed(1)) + "/s"; };
  var fmtMs = function (ms) {
    if (ms < 1000) return ms + " ms";
    if (ms < 60000) return Math.floor(ms / 1000) + " s";
    if (ms < 3600000) return Math.floor(ms / 60000) + " min";
    if (ms < 86400000) return Math.floor(ms / 3600000) + " h";
    return Math.floor(ms / 86400000) + " d";
  };
  var setText = function (el, text) { if (el && el.textContent !== text) el.textContent = text; };

  function applySnapshot(s) {
    var stat = function (key, text) { setText(document.querySelector('[data-stat="' + key + '"]'), text); };
    var ready = 0, dead = 0;
    s.queues.forEach(function (q) { ready += q.ready; dead += q.dead; });
    stat("processed_per_second", fmtRate(s.processed_per_second));
    stat("failed_per_second", fmtRate(s.failed_per_second));
    stat("processed_total", fmtCount(s.totals.processed));
    stat("failed_total", fmtCount(s.totals.failed));
    stat("ready_total", fmtCount(ready));
    stat("dead_total", fmtCount(dead));
    stat("workers", fmtCount(s.workers.length));
    stat("busy_slots", s.busy_slots + " / " + s.total_slots);
    s.queues.forEach(function (q) {
      document.querySelectorAll("tr[data-queue]").forEach(function (row) {
        if (row.getAttribute("data-queue") !== q.name) return;
        ["ready", "scheduled", "retry", "active", "dead", "cancelled", "expired", "processed", "failed"].forEach(function (f) {
          var cell = row.querySelector('[data-f="' + f + '"]');
          if (!cell) return;
          setText(cell.querySelector("a") || cell, fmtCount(q[f]));
        });
        setText(row.querySelector('[data-f="latency"]'), fmtMs(q.latency_ms));
        setText(row.querySelector('[data-f="rate"]'), fmtRate((s.queue_rates || {})[q.name] || 0));
      });
    });
  }

  function poll() {
    var status = document.getElementById("live-status");
    fetch(apiBase + "/stats", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (s) { applySnapshot(s); setText(status, "Updated " + new Date().toLocaleTimeString() + "."); })
      .catch(function (e) { setText(status, "Live updates paused: " + e.message + "."); });
  }

  function refreshCharts() {
    ["chart-hour", "chart-days"].forEach(function (id) {
      var img = document.getElementById(id);
      if (!img) return;
      var base = img.getAttribute("src").split("?")[0];
      img.setAttribute("src", base + "?t=" + Date.now());
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.getElementById("live-stats")) {
      setInterval(function () { if (!document.hidden) poll(); }, 3000);
      setInterval(function () { if (!document.hidden) refreshCharts(); }, 30000);
    }
    var all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll('input[name="ids"]').forEach(function (box) { box.checked = all.checked; });
      });
    }
    // Destructive buttons ask first (the purge page is its own confirmation);
    // data-confirm overrides the question.
    document.querySelectorAll("button.danger").forEach(function (button) {
      if (button.id === "confirm-purge") return;
      var question = button.getAttribute("data-confirm") || "Delete these jobs? This cannot be undone.";
      button.addEventListener("click", function (event) {
        if (!window.confirm(question)) event.preventDefault();
      });
    });
  });
})();
