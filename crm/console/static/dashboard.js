/* The dashboard's charts (Chart.js, served by the console from npm's package): the figures come
   from the page itself (data-charts), so the charts show exactly what the tables below list. */
(function () {
  "use strict";
  var holder = document.getElementById("chart-data");
  if (!holder || typeof Chart === "undefined") { return; }
  var data = JSON.parse(holder.getAttribute("data-charts"));
  var f = data.figures;
  var colours = ["#c8102e", "#0b5cad", "#1a7f37", "#f0a030", "#6f42c1", "#667788", "#20a0a0", "#a05020"];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { canvas.chart = new Chart(canvas, config); }
  }
  function percent(x) { return x === null ? null : Math.round(x * 1000) / 10; }

  draw("chart-days", {
    data: {
      labels: f.by_day.map(function (d) { return d.day.slice(5); }),
      datasets: [
        { type: "bar", label: "sesi", data: f.by_day.map(function (d) { return d.sessions; }), backgroundColor: "#c9d6e8", yAxisID: "y" },
        { type: "line", label: "% terlayani bot", data: f.by_day.map(function (d) { return percent(d.containment); }), borderColor: "#c8102e", yAxisID: "y1", spanGaps: true }
      ]
    },
    options: { scales: { y: { beginAtZero: true }, y1: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } } } }
  });
  var outcomeNames = Object.keys(f.outcomes);
  draw("chart-outcomes", {
    type: "doughnut",
    data: {
      labels: outcomeNames.map(function (k) { return data.outcome_words[k] || k; }),
      datasets: [{ data: outcomeNames.map(function (k) { return f.outcomes[k]; }), backgroundColor: colours }]
    },
    options: { plugins: { legend: { position: "right" } } }
  });
  draw("chart-escalations", {
    type: "bar",
    data: {
      labels: f.escalation_by_reason.map(function (r) { return r.reason; }),
      datasets: [{ label: "% permintaan", data: f.escalation_by_reason.map(function (r) { return percent(r.rate); }), backgroundColor: "#c8102e" }]
    },
    options: { indexAxis: "y", plugins: { legend: { display: false } } }
  });
  draw("chart-hours", {
    type: "bar",
    data: {
      labels: f.messages_by_hour.map(function (h) { return String(h.hour).padStart(2, "0"); }),
      datasets: [{ label: "pesan", data: f.messages_by_hour.map(function (h) { return h.messages; }), backgroundColor: "#0b5cad" }]
    },
    options: { plugins: { legend: { display: false } } }
  });
  var trend = f.intent_trend || {};
  draw("chart-intents", {
    type: "line",
    data: {
      labels: f.by_day.map(function (d) { return d.day.slice(5); }),
      datasets: Object.keys(trend).map(function (intent, i) {
        return { label: intent, data: trend[intent], borderColor: colours[i % colours.length], backgroundColor: colours[i % colours.length] };
      })
    },
    options: { scales: { y: { beginAtZero: true } } }
  });
  var topics = data.complaints.topics;
  draw("chart-complaints", {
    type: "bar",
    data: {
      labels: topics.map(function (t) { return t.title; }),
      datasets: [
        { label: "tepat waktu", data: topics.map(function (t) { return t.on_time; }), backgroundColor: "#1a7f37" },
        { label: "terlambat", data: topics.map(function (t) { return t.late; }), backgroundColor: "#c8102e" },
        { label: "belum selesai", data: topics.map(function (t) { return t.complaints - t.on_time - t.late; }), backgroundColor: "#f0a030" }
      ]
    },
    options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } } }
  });
  document.body.setAttribute("data-charts-drawn", String(Chart.instances ? Object.keys(Chart.instances).length : 0));
})();
