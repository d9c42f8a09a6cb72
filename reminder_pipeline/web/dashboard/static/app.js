// The dashboard's own script: charts from each canvas's data, the CSRF header for htmx, and live
// updates — a server-sent event when payments, replies or delivery events arrive refreshes the page's
// content in place (no reload), and says so in the status line; when the session ends (a logout, a new
// password or role) the stream says so and the page stops listening.
(function () {
  "use strict";
  var charts = [];

  function drawCharts(root) {
    if (!window.Chart) { return; }
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    root.querySelectorAll("canvas.chart").forEach(function (canvas) {
      var spec = JSON.parse(canvas.getAttribute("data-chart"));
      charts.push(new window.Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: [{ label: spec.label, data: spec.values,
          backgroundColor: spec.type === "bar" ? ["#2e7d32", "#f9a825", "#ef6c00", "#c62828", "#6a1b1a"] : "#1f4e9e",
          borderColor: "#1f4e9e", tension: 0.2, spanGaps: true }] },
        options: { animation: false, responsive: true, maintainAspectRatio: false,
          plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
      }));
    });
  }

  function refresh(kinds) {
    fetch(window.location.href, { headers: { "X-Live-Refresh": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("refreshable");
        var here = document.getElementById("refreshable");
        var active = document.activeElement && document.activeElement.id;
        if (fresh && here && !here.contains(document.activeElement.closest ? document.activeElement.closest("form.action") : null)) {
          here.innerHTML = fresh.innerHTML;
          if (window.htmx) { window.htmx.process(here); }
          drawCharts(here);
          if (active && document.getElementById(active)) { document.getElementById(active).focus(); }
        }
        var status = document.getElementById("live-status");
        if (status) { status.textContent = "Updated " + new Date().toLocaleTimeString() + ": " + kinds.join(", ") + "."; }
      });
  }

  function listen() {
    var version = document.body.getAttribute("data-version") || "0";
    var source = new EventSource("/live?after=" + encodeURIComponent(version));
    source.addEventListener("change", function (event) {
      var data = JSON.parse(event.data);
      document.body.setAttribute("data-version", String(data.version));
      refresh(data.kinds);
    });
    source.addEventListener("ended", function () {
      source.close();
      var status = document.getElementById("live-status");
      if (status) { status.textContent = "Your session has ended: log in again for live updates."; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var token = document.querySelector('meta[name="csrf-token"]');
    document.body.addEventListener("htmx:configRequest", function (event) {
      if (token) { event.detail.headers["X-CSRF-Token"] = token.getAttribute("content"); }
    });
    document.body.addEventListener("htmx:afterSwap", function (event) { drawCharts(event.target); });
    drawCharts(document);
    if (window.EventSource && document.body.hasAttribute("data-version")) { listen(); }
  });
})();
