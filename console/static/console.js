// asyncfn console: the live parts of its pages. Everything from a payload,
// a result or a log is written with textContent, never as HTML.
(function () {
  'use strict';

  var body = document.body;
  var poll = Number(body.dataset.poll) || 500;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function statusBadge(status) {
    var s = el('span', status, 'status s-' + String(status).toLowerCase());
    return s;
  }

  function cell(child) {
    var td = document.createElement('td');
    if (child instanceof Node) td.appendChild(child); else td.textContent = child;
    return td;
  }

  // every fetches url every poll ms (one request at a time) and hands the
  // JSON to onData, until onData returns false.
  function every(url, onData) {
    var stopped = false;
    function tick() {
      if (stopped) return;
      var started = Date.now();
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && onData(data) === false) stopped = true; })
        .catch(function () {})
        .then(function () { if (!stopped) setTimeout(tick, Math.max(0, poll - (Date.now() - started))); });
    }
    setTimeout(tick, poll);
  }

  // The events view updates its rows in place, keyed by RequestId: a row
  // that did not change is not touched, so a link keeps the keyboard focus
  // and a click lands where it was aimed.
  function eventsView() {
    var rows = document.getElementById('events-rows');
    var total = document.getElementById('events-total');

    function fill(tr, r) {
      var cells = tr.children;
      cells[1].replaceChildren(statusBadge(r.status));
      cells[2].textContent = r.attempts;
      cells[3].textContent = r.created;
      cells[4].textContent = r.duration;
      cells[5].textContent = r.error;
    }

    function build(r) {
      var tr = document.createElement('tr');
      tr.dataset.requestId = r.requestId;
      var a = el('a', r.requestId);
      a.href = r.url;
      tr.appendChild(cell(a));
      for (var i = 0; i < 5; i++) tr.appendChild(document.createElement('td'));
      tr.children[5].className = 'err';
      fill(tr, r);
      return tr;
    }

    every(body.dataset.api, function (page) {
      var existing = {};
      Array.prototype.forEach.call(rows.children, function (tr) { existing[tr.dataset.requestId] = tr; });
      var keep = {};
      var prev = null;
      (page.rows || []).forEach(function (r) {
        keep[r.requestId] = true;
        var sig = JSON.stringify(r);
        var tr = existing[r.requestId];
        if (!tr) {
          tr = build(r);
        } else if (tr.dataset.sig !== sig) {
          fill(tr, r);
        }
        tr.dataset.sig = sig;
        var want = prev ? prev.nextSibling : rows.firstChild;
        if (tr !== want) rows.insertBefore(tr, want);
        prev = tr;
      });
      Object.keys(existing).forEach(function (id) { if (!keep[id]) rows.removeChild(existing[id]); });
      var text = page.total ? page.first + '–' + page.last + ' of ' + page.total : 'none';
      if (total.textContent !== text) total.textContent = text;
    });
  }

  function eventView() {
    var status = document.getElementById('ev-status');
    var following = false;
    var last = '';
    every(body.dataset.api, function (ev) {
      var sig = JSON.stringify(ev);
      if (sig === last) return;
      last = sig;
      if (!following) {
        // A cloud may list an event a moment after accepting it: its log
        // is followed once the event is there.
        following = true;
        followLog();
      }
      status.textContent = ev.status;
      status.className = 'status s-' + ev.status.toLowerCase();
      document.getElementById('ev-attempts').textContent = ev.attempts;
      document.getElementById('ev-duration').textContent = ev.duration;
      document.getElementById('ev-memory').textContent = ev.maxMemory || '-';
      var tl = document.createDocumentFragment();
      (ev.timeline || []).forEach(function (t) {
        var li = document.createElement('li');
        li.appendChild(el('time', t.time));
        li.appendChild(document.createTextNode(' ' + t.what));
        tl.appendChild(li);
      });
      document.getElementById('ev-timeline').replaceChildren(tl);
      var att = document.getElementById('ev-attempt-rows');
      if (att) {
        var rows = document.createDocumentFragment();
        (ev.attemptList || []).forEach(function (a) {
          var tr = document.createElement('tr');
          tr.appendChild(cell(a.n));
          tr.appendChild(cell(statusBadge(a.status)));
          tr.appendChild(cell(a.started));
          tr.appendChild(cell(a.duration));
          var err = cell(a.error);
          err.className = 'err';
          tr.appendChild(err);
          rows.appendChild(tr);
        });
        att.replaceChildren(rows);
      }
      document.getElementById('ev-result').textContent = ev.result || '';
      var e = document.getElementById('ev-error');
      var msg = ev.errorType ? ev.errorType + ': ' + (ev.errorMessage || '') : (ev.errorMessage || '');
      e.textContent = msg;
      e.hidden = !msg;
      if (ev.terminal) {
        document.getElementById('terminate').hidden = true;
        document.getElementById('ended-note').hidden = false;
        return false; // a terminal event never changes again
      }
    });
  }

  // The log keeps its last maxLines lines: a four-hour job may print more
  // than a page should hold.
  var maxLines = 20000;

  function followLog() {
    var log = document.getElementById('log');
    var state = document.getElementById('log-state');
    if (!body.dataset.log || !window.EventSource) return;
    var es = new EventSource(body.dataset.log);
    var n = 0;
    es.addEventListener('line', function (m) {
      var line = JSON.parse(m.data);
      log.appendChild(document.createTextNode(line.text + '\n'));
      n++;
      if (n > maxLines) {
        log.removeChild(log.firstChild);
        state.textContent = 'Following the log live; showing its last ' + maxLines + ' of ' + n + ' lines.';
      }
      log.scrollTop = log.scrollHeight;
    });
    es.addEventListener('end', function (m) {
      es.close();
      state.textContent = 'The event ended ' + m.data + '; its log is complete (' + n + ' lines).';
      log.dataset.complete = 'true';
    });
    es.addEventListener('failed', function (m) {
      es.close();
      state.textContent = 'The log could not be followed: ' + m.data;
    });
  }

  // The functions view: its counts, every few polls (each is a count per
  // function on the provider).
  function functionsView() {
    poll *= 4;
    every(body.dataset.api, function (data) {
      (data.functions || []).forEach(function (f) {
        var card = document.querySelector('[data-fn="' + CSS.escape(f.name) + '"]');
        if (!card || f.error) return;
        var total = card.querySelector('.total');
        if (total) total.textContent = f.total;
        (f.counts || []).forEach(function (c) {
          var n = card.querySelector('[data-status="' + c.status + '"]');
          if (n) n.textContent = c.n;
        });
      });
    });
  }

  if (body.dataset.view === 'functions') functionsView();
  if (body.dataset.view === 'events') eventsView();
  if (body.dataset.view === 'event') eventView();
})();
