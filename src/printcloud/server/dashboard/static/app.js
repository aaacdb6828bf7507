// PrintCloud dashboard: copy buttons, and live state changes over Server-Sent Events.
// Plain JavaScript, no build step; served from this directory (no CDN).
"use strict";

(function () {
  const body = document.body;
  const labels = JSON.parse(body.dataset.states || "{}");
  // Event types and states, as the server spells them (protocol/ on the server's side).
  const words = JSON.parse(body.dataset.words || "{}");

  // Copy buttons: <button data-copy="id-of-input-or-code">
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const text = source.value !== undefined ? source.value : source.textContent;
      const done = function () {
        const before = button.textContent;
        button.textContent = body.dataset.copied;
        setTimeout(function () { button.textContent = before; }, 2000);
      };
      const fallback = function () {
        // Clipboard API needs https; over plain http select the text instead.
        if (source.select) { source.select(); } else {
          const range = document.createRange();
          range.selectNodeContents(source);
          const selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        }
        if (document.execCommand && document.execCommand("copy")) { done(); }
        else { button.textContent = body.dataset.copyFailed; }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, fallback);
      } else {
        fallback();
      }
    });
  });

  // Times are written in UTC; the computer's own time goes beside each, when it differs.
  const localFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  function showLocal(time) {
    if (time.dataset.local) return;
    const iso = /(Z|[+-]\d\d:?\d\d)$/.test(time.dateTime) ? time.dateTime : time.dateTime + "Z";
    const date = new Date(iso);
    if (isNaN(date.getTime()) || date.getTimezoneOffset() === 0) return;
    time.dataset.local = localFormat.format(date);
    const local = document.createElement("span");
    local.className = "local-time";
    local.dir = "ltr";
    local.textContent = " (" + time.dataset.local + ")";
    time.after(local);
  }
  document.querySelectorAll("time[datetime]").forEach(showLocal);

  if (!("liveCursor" in body.dataset) || !window.EventSource) return;

  // The last known state of each job on the page, so the counts can move.
  const known = {};
  document.querySelectorAll("[data-job-state]").forEach(function (el) {
    known[el.dataset.jobState] = el.dataset.state;
  });

  function setState(el, state) {
    el.className = el.className.replace(/\bstate-[a-z]+\b/g, "") + " state-" + state;
    el.className = el.className.replace(/\s+/g, " ").trim();
    el.dataset.state = state;
    el.textContent = labels[state] || state;
  }

  function bump(state, delta) {
    const counter = document.querySelector('[data-count="' + state + '"]');
    if (counter) counter.textContent = String(Math.max(0, Number(counter.textContent) + delta));
  }

  function appendHistory(jobId, state, message, timestamp) {
    const tbody = document.querySelector('[data-job-history="' + jobId + '"]');
    if (!tbody) return;
    const row = document.createElement("tr");
    const badge = document.createElement("span");
    badge.className = "state";
    setState(badge, state);
    const cells = [badge, document.createTextNode(message || ""), document.createTextNode("")];
    cells.forEach(function (content) {
      const td = document.createElement("td");
      td.appendChild(content);
      row.appendChild(td);
    });
    const time = document.createElement("time");
    time.dateTime = timestamp;
    time.textContent = timestamp.replace("T", " ").replace(/\.\d+Z$/, "");
    row.lastChild.appendChild(time);
    tbody.appendChild(row);
    showLocal(time);
  }

  function onEvent(event) {
    const payload = JSON.parse(event.data);
    if (payload.type === words.jobCreated) {
      known[payload.jobId] = payload.state;
      bump(payload.state, 1);
      bump("total", 1);
    } else if (payload.type === words.jobState) {
      const before = known[payload.jobId];
      if (before && before !== payload.state) { bump(before, -1); bump(payload.state, 1); }
      known[payload.jobId] = payload.state;
      document.querySelectorAll('[data-job-state="' + payload.jobId + '"]').forEach(function (el) {
        setState(el, payload.state);
      });
      appendHistory(payload.jobId, payload.state, payload.message, payload.timestamp);
    } else if (payload.type === words.computerConnected || payload.type === words.computerDisconnected) {
      const state = payload.type === words.computerConnected ? words.online : words.offline;
      document.querySelectorAll('[data-computer-state="' + payload.computerId + '"]').forEach(function (el) {
        setState(el, state);
      });
    } else if (payload.type === words.printerState) {
      document.querySelectorAll('[data-printer-state="' + payload.printerId + '"]').forEach(function (el) {
        setState(el, payload.state);
      });
    }
  }

  const source = new EventSource("/dashboard/events?after=" + encodeURIComponent(body.dataset.liveCursor));
  source.onmessage = onEvent;
  source.onopen = function () { body.dataset.live = "open"; };
})();
