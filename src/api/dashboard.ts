import { createHash } from 'node:crypto';

/**
 * GET / — one self-contained page: inline CSS and JS, charts drawn as inline SVG, no
 * build step and nothing fetched from elsewhere. The page itself is public; it asks
 * for a bearer token (kept in sessionStorage, so it dies with the tab) and calls the
 * protected routes with it. Everything from the store is inserted as text, never as
 * HTML, and the Content-Security-Policy allows only this script and this style.
 */
const STYLE = `
:root { color-scheme: light dark; --ok: #2e7d32; --warn: #b26a00; --crit: #c62828; --muted: #777; --line: #1565c0; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 16px 24px; }
header { display: flex; align-items: center; gap: 16px; flex-wrap: wrap; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 15px; margin: 20px 0 6px; }
.badge { padding: 2px 10px; border-radius: 10px; color: #fff; background: var(--muted); font-weight: 600; }
.badge.healthy { background: var(--ok); } .badge.warning { background: var(--warn); } .badge.critical { background: var(--crit); }
.muted { color: var(--muted); }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin-top: 12px; }
.card { border: 1px solid #8884; border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.card b { display: block; font-size: 22px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
svg { width: 100%; height: 180px; border: 1px solid #8884; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #8883; vertical-align: top; }
td.healthy { color: var(--ok); } td.warning { color: var(--warn); } td.critical { color: var(--crit); }
#token-form { margin: 16px 0; padding: 12px; border: 1px solid #8886; border-radius: 6px; max-width: 560px; }
#token-form input { width: 100%; padding: 6px; margin: 6px 0; font: inherit; }
#error { color: var(--crit); }
[hidden] { display: none !important; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var KEY = 'vigil.token';
  var API = '/api/v1/monitoring';
  var $ = function (id) { return document.getElementById(id); };
  var timer = null;

  function token() { return sessionStorage.getItem(KEY); }

  function showForm(message) {
    $('token-form').hidden = false;
    $('main').hidden = true;
    $('token-message').textContent = message || '';
    if (timer) { clearInterval(timer); timer = null; }
  }

  function get(path, auth) {
    var headers = { Accept: 'application/json' };
    if (auth) headers.Authorization = 'Bearer ' + token();
    return fetch(path, { headers: headers, cache: 'no-store' }).then(function (res) {
      if (res.status === 401) { var e = new Error('unauthorized'); e.unauthorized = true; throw e; }
      return res.json().then(function (body) {
        if (!res.ok && res.status !== 503) throw new Error(body && body.message ? body.message : 'HTTP ' + res.status);
        return body;
      });
    });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function fillTable(tbody, rows, cells, rowClass) {
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    rows.forEach(function (r) {
      var tr = el('tr', null, rowClass);
      cells(r).forEach(function (c) { tr.appendChild(typeof c === 'object' && c !== null ? c : el('td', c)); });
      tbody.appendChild(tr);
    });
  }

  function pct(x) { return (Math.round(x * 1000) / 10) + '%'; }
  function time(iso) { return iso ? new Date(iso).toLocaleString() : ''; }

  var SVGNS = 'http://www.w3.org/2000/svg';
  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    return e;
  }

  /** A line (and area) chart of points [{t (ms), v}] into an <svg>. */
  function chart(svg, points, opts) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    // The viewBox follows the drawn size, so text is not stretched.
    var W = Math.max(300, svg.clientWidth || 600), H = 180, L = 48, R = 8, T = 10, B = 22;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    if (points.length === 0) {
      var t = svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', fill: 'currentColor' });
      t.textContent = 'no data';
      svg.appendChild(t);
      return;
    }
    var t0 = points[0].t, t1 = points[points.length - 1].t;
    if (t1 === t0) t1 = t0 + 60000;
    var max = opts.max || 0;
    points.forEach(function (p) { if (p.v !== null && p.v > max) max = p.v; });
    if (max <= 0) max = 1;
    var x = function (tt) { return L + ((tt - t0) / (t1 - t0)) * (W - L - R); };
    var y = function (v) { return T + (1 - v / max) * (H - T - B); };
    [0, 0.5, 1].forEach(function (f) {
      svg.appendChild(svgEl('line', { x1: L, x2: W - R, y1: y(max * f), y2: y(max * f), stroke: 'currentColor', 'stroke-opacity': 0.15 }));
      var lab = svgEl('text', { x: L - 4, y: y(max * f) + 4, 'text-anchor': 'end', 'font-size': 10, fill: 'currentColor' });
      lab.textContent = opts.format(max * f);
      svg.appendChild(lab);
    });
    [t0, t1].forEach(function (tt, i) {
      var lab = svgEl('text', { x: x(tt), y: H - 6, 'text-anchor': i ? 'end' : 'start', 'font-size': 10, fill: 'currentColor' });
      lab.textContent = new Date(tt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      svg.appendChild(lab);
    });
    var d = '', area = '', started = false, first = null, last = null;
    points.forEach(function (p) {
      if (p.v === null) { started = false; return; }
      var px = x(p.t).toFixed(1), py = y(p.v).toFixed(1);
      d += (started ? 'L' : 'M') + px + ' ' + py;
      started = true;
      if (first === null) first = px;
      last = px;
    });
    if (first !== null) {
      area = 'M' + first + ' ' + y(0) + d.replace(/M/g, 'L') + 'L' + last + ' ' + y(0) + 'Z';
      svg.appendChild(svgEl('path', { d: area, fill: opts.color, 'fill-opacity': 0.15, stroke: 'none', 'class': 'area' }));
      svg.appendChild(svgEl('path', { d: d, fill: 'none', stroke: opts.color, 'stroke-width': 1.5, 'class': 'line' }));
    }
  }

  /** Per-minute points binned to at most 288 (5-minute bins over 24 h). */
  function bin(points) {
    var size = Math.max(1, Math.ceil(points.length / 288));
    var out = [];
    for (var i = 0; i < points.length; i += size) {
      var ops = 0, failed = 0, n = 0;
      for (var j = i; j < Math.min(points.length, i + size); j++) { ops += points[j].operations; failed += points[j].failed; n++; }
      out.push({ t: Date.parse(points[i].t), ops: ops / n, rate: ops > 0 ? failed / ops : null });
    }
    return out;
  }

  function refresh() {
    if (!token()) return showForm('');
    Promise.all([
      get(API + '/health', false),
      get(API + '/stats?hours=24', true),
      get(API + '/timeseries?hours=24', true),
      get(API + '/sessions/active?limit=50', true),
      get(API + '/alerts?state=firing&limit=100', true)
    ]).then(function (r) {
      var health = r[0], stats = r[1], series = r[2], sessions = r[3], alerts = r[4];
      $('token-form').hidden = true;
      $('main').hidden = false;
      $('error').textContent = '';
      var badge = $('overall');
      badge.textContent = health.overall_status;
      badge.className = 'badge ' + health.overall_status;
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      $('c-ops').textContent = stats.total_operations;
      $('c-err').textContent = pct(stats.error_rate);
      $('c-dur').textContent = stats.average_duration + ' s';
      $('c-sessions').textContent = sessions.total_active;
      $('c-alerts').textContent = alerts.total;
      var b = bin(series.points);
      var perMin = b.map(function (p) { return { t: p.t, v: p.ops }; });
      var rate = b.map(function (p) { return { t: p.t, v: p.rate }; });
      chart($('chart-ops'), perMin, { color: '#1565c0', format: function (v) { return String(Math.round(v)); } });
      chart($('chart-errors'), rate, { color: '#c62828', max: 0.1, format: function (v) { return pct(v); } });
      fillTable($('checks'), health.checks, function (c) { return [c.component, el('td', c.status, c.status), c.message]; });
      fillTable($('alerts'), alerts.alerts, function (a) {
        return [el('td', a.level, a.level === 'critical' || a.level === 'error' ? 'critical' : 'warning'), a.rule, a.summary, time(a.firing_at || a.started_at)];
      }, 'alert-row');
      $('no-alerts').hidden = alerts.alerts.length > 0;
      fillTable($('sessions'), sessions.active_sessions, function (s) {
        return [s.session_id, s.user_id || '', s.stage || '', s.duration_minutes + ' min', time(s.last_event_at)];
      }, 'session-row');
    }).catch(function (e) {
      if (e.unauthorized) { sessionStorage.removeItem(KEY); return showForm('That token was not accepted.'); }
      $('error').textContent = 'Refresh failed: ' + e.message;
    });
  }

  $('token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var v = $('token-input').value.trim();
    if (!v) return;
    sessionStorage.setItem(KEY, v);
    $('token-input').value = '';
    start();
  });
  $('logout').addEventListener('click', function () { sessionStorage.removeItem(KEY); showForm(''); });

  function start() {
    refresh();
    if (!timer) timer = setInterval(refresh, 10000);
  }
  // A link of the form /#token=... (what vigil demo prints) logs in once; the fragment
  // never reaches the server and is wiped from the address bar at once.
  var m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) { sessionStorage.setItem(KEY, decodeURIComponent(m[1])); history.replaceState(null, '', location.pathname + location.search); }
  if (token()) start(); else showForm('');
})();
`;

const BODY = `
<header>
  <h1>vigil</h1>
  <span id="overall" class="badge">…</span>
  <span id="updated" class="muted"></span>
  <span id="error"></span>
</header>
<form id="token-form" hidden autocomplete="off">
  <label for="token-input">API token (a line of the agent's tokens file)</label>
  <input id="token-input" type="password" spellcheck="false">
  <button type="submit">Use token</button>
  <div id="token-message" class="muted"></div>
</form>
<main id="main" hidden>
  <div class="cards">
    <div class="card">operations, 24 h<b id="c-ops">–</b></div>
    <div class="card">error rate, 24 h<b id="c-err">–</b></div>
    <div class="card">average duration<b id="c-dur">–</b></div>
    <div class="card">active sessions<b id="c-sessions">–</b></div>
    <div class="card">firing alerts<b id="c-alerts">–</b></div>
  </div>
  <div class="charts">
    <div><h2>Operations per minute, last 24 h</h2><svg id="chart-ops" role="img" aria-label="operations per minute"></svg></div>
    <div><h2>Error rate, last 24 h</h2><svg id="chart-errors" role="img" aria-label="error rate"></svg></div>
  </div>
  <h2>Firing alerts</h2>
  <p id="no-alerts" class="muted">none</p>
  <table><thead><tr><th>level</th><th>rule</th><th>summary</th><th>since</th></tr></thead><tbody id="alerts"></tbody></table>
  <h2>Health</h2>
  <table><thead><tr><th>component</th><th>status</th><th>message</th></tr></thead><tbody id="checks"></tbody></table>
  <h2>Active sessions</h2>
  <table><thead><tr><th>session</th><th>user</th><th>stage</th><th>running</th><th>last event</th></tr></thead><tbody id="sessions"></tbody></table>
  <p><button id="logout" type="button">Forget token</button></p>
</main>
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vigil</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

const sha = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha(SCRIPT)}`,
  `style-src ${sha(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
