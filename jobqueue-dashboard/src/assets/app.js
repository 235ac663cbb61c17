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

  // Live events (the history page, a job's page, a list of jobs): the
  // queue's Server-Sent Events as a list, newest first, written with
  // textContent only. A job's page follows its own job and reloads when
  // the job moves on; a list offers to refresh once it changed.
  var LIVE_KINDS = ["enqueued", "started", "progress", "succeeded", "failed", "retrying",
    "snoozed", "dead", "cancelled", "expired"];
  var MOVES_ON = ["succeeded", "retrying", "snoozed", "dead", "cancelled", "expired"];
  function liveEvents(section) {
    if (section.getAttribute("data-on") !== "true" || !window.EventSource) return;
    var holder = section.parentElement;
    var job = holder ? holder.getAttribute("data-job") : null;
    var listName = holder ? holder.getAttribute("data-list") : null;
    var list = section.querySelector("#live-events-list");
    var status = section.querySelector("#live-events-status");
    var url = apiBase + "/queues/" + encodeURIComponent(section.getAttribute("data-queue")) + "/events";
    var source = new EventSource(url, { withCredentials: true });
    var shown = 0;
    var refresh = null;
    source.onopen = function () { if (shown === 0) setText(status, "Live: waiting for events."); };
    source.onerror = function () { setText(status, "Live events interrupted; reconnecting…"); };
    source.addEventListener("missed", function () {
      setText(status, "Some events were trimmed before they could be shown.");
    });
    LIVE_KINDS.forEach(function (kind) {
      source.addEventListener(kind, function (message) {
        var event;
        try { event = JSON.parse(message.data); } catch (e) { return; }
        if (job && event.job_id !== job) return;
        var text = event.at + " · " + event.kind + " · " + event.job_id;
        if (event.kind === "progress") text += " · " + event.percent + "% " + event.message;
        if (event.run_at) text += " · due " + event.run_at;
        var item = document.createElement("li");
        item.setAttribute("data-kind", event.kind);
        item.textContent = text;
        list.insertBefore(item, list.firstChild);
        while (list.children.length > 100) list.removeChild(list.lastChild);
        shown += 1;
        setText(status, "Live: " + shown + (shown === 1 ? " event." : " events."));
        if (job && MOVES_ON.indexOf(event.kind) >= 0) {
          setTimeout(function () { window.location.reload(); }, 1500);
        }
        if (listName && !refresh) {
          refresh = document.createElement("a");
          refresh.id = "live-refresh";
          refresh.href = window.location.href;
          refresh.textContent = "This list changed: refresh";
          section.insertBefore(refresh, list);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("live-events");
    if (live) liveEvents(live);
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
