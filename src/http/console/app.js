/* Runnel console: the shell — routing by the URL's hash, polling the
 * server's /api documents every 2 seconds, formatting, the theme, and the
 * guarded POST actions (same origin, X-CSRF-Token from /api/session). */
'use strict';
var App = (function () {
  var pages = {};
  var session = null;
  var timer = null;
  var current = null; /* {name, params} */
  var busy = false;
  var generation = 0; /* bumped by each navigation: late answers are dropped */
  var POLL_MS = 2000;

  function esc(v) {
    return String(v === null || v === undefined ? '' : v).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function num(v) {
    if (v === null || v === undefined || v === '') return '-';
    var n = Number(v);
    return isFinite(n) ? n.toLocaleString('en-US') : esc(v);
  }

  function bytes(v) {
    var n = Number(v);
    if (!isFinite(n)) return '-';
    var units = ['B', 'KB', 'MB', 'GB', 'TB'], i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(n < 10 ? 2 : 1) : String(Math.round(n))) + ' ' + units[i];
  }

  function compact(v) {
    var n = Number(v);
    if (!isFinite(n)) return '-';
    if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + 'M';
    if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(0) + 'k';
    if (Math.abs(n) >= 1e3) return (n / 1e3).toFixed(1) + 'k';
    return String(Math.round(n * 10) / 10);
  }

  function duration(ms) {
    var n = Number(ms);
    if (!isFinite(n)) return '-';
    if (n < 1000) return n + ' ms';
    var s = n / 1000;
    if (s < 60) return s.toFixed(1) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.floor(s % 60) + ' s';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor(s % 3600 / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor(s % 86400 / 3600) + ' h';
  }

  function query(params) {
    return Object.keys(params).filter(function (k) {
      return params[k] !== undefined && params[k] !== null && params[k] !== '';
    }).map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]); }).join('&');
  }

  /* Every request says it comes from this script (X-Requested-With): the
   * server then answers a missing login with 401 alone, not with the
   * browser's password dialog, and the page shows its login form. */
  var SCRIPT = { 'X-Requested-With': 'runnel-console' };

  function get(path, params) {
    var url = path + (params ? '?' + query(params) : '');
    return fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: SCRIPT }).then(function (r) {
      if (r.status === 401) { showLogin(''); throw new Error('log in first'); }
      if (r.status === 403) {
        return r.json().then(function (d) { throw new Error(d.error || (url + ': HTTP 403')); });
      }
      if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
      return r.json();
    });
  }

  function loadSession() {
    return get('/api/session').then(function (s) {
      session = s;
      document.getElementById('who').textContent = s.password_required ? s.user : '';
      document.getElementById('logout').hidden = s.login !== 'session';
      return s;
    });
  }

  /* The login form stands in for the pages until a login succeeds. */
  function showLogin(error) {
    clearInterval(timer);
    session = null;
    document.getElementById('view').hidden = true;
    document.getElementById('login').hidden = false;
    document.getElementById('login-error').textContent = error;
    document.getElementById('logout').hidden = true;
    document.getElementById('who').textContent = '';
  }

  function login(ev) {
    ev.preventDefault();
    var body = new URLSearchParams();
    body.set('user', document.getElementById('login-user').value);
    body.set('password', document.getElementById('login-password').value);
    fetch('/api/login', { method: 'POST', credentials: 'same-origin', headers: SCRIPT, body: body })
      .then(function (r) {
        return r.json().then(function (d) {
          if (!r.ok) throw new Error(d.error || ('HTTP ' + r.status));
          document.getElementById('login-password').value = '';
          document.getElementById('login').hidden = true;
          document.getElementById('view').hidden = false;
          return loadSession().then(route);
        });
      }).catch(function (e) { document.getElementById('login-error').textContent = e.message; });
  }

  function logout() {
    fetch('/api/logout', { method: 'POST', credentials: 'same-origin', headers: SCRIPT })
      .then(function () { showLogin(''); });
  }

  /* POST /api/action/<name>: the server checks Origin and the token. */
  function action(name, params) {
    return (session ? Promise.resolve(session) : loadSession()).then(function (s) {
      return fetch('/api/action/' + name + '?' + query(params), {
        method: 'POST', credentials: 'same-origin',
        headers: { 'X-CSRF-Token': s.csrf_token, 'X-Requested-With': 'runnel-console' }
      });
    }).then(function (r) {
      return r.json().then(function (doc) {
        if (!r.ok || doc.error) throw new Error(doc.error || ('HTTP ' + r.status));
        return doc;
      });
    });
  }

  function canWrite() { return !!(session && session.can_write); }
  function currentSession() { return session; }

  function toast(text, bad) {
    var t = document.getElementById('toast');
    t.textContent = text;
    t.className = 'toast show' + (bad ? ' error' : '');
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.className = 'toast'; }, 3000);
  }

  function parseHash() {
    var h = location.hash.replace(/^#\/?/, '');
    var q = h.indexOf('?');
    var name = (q < 0 ? h : h.slice(0, q)) || 'overview';
    var params = {};
    if (q >= 0) {
      h.slice(q + 1).split('&').forEach(function (kv) {
        if (!kv) return;
        var i = kv.indexOf('=');
        var k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
        params[k] = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1));
      });
    }
    return { name: name, params: params };
  }

  /* A table heading: a leading '~' hides the column on a phone (its cells
   * carry class hide-sm), then a '#' right-aligns it (numbers). */
  function th(h) {
    var cls = [];
    if (h.charAt(0) === '~') { cls.push('hide-sm'); h = h.slice(1); }
    if (h.charAt(0) === '#') { cls.push('n'); h = h.slice(1); }
    return '<th' + (cls.length ? ' class="' + cls.join(' ') + '"' : '') + '>' + esc(h) + '</th>';
  }

  function link(page, params) {
    return '#/' + page + (params ? '?' + query(params) : '');
  }

  /* Renders the current page: frame() gives its fixed part (controls keep
   * what the user typed), load() the data, render() the part that a
   * refresh replaces (#body). */
  function refresh(first) {
    var page = pages[current.name] || pages.overview;
    if (busy) return;
    busy = true;
    var mine = generation;
    var view = document.getElementById('view');
    if (first) view.innerHTML = page.frame ? page.frame(current.params) : '<div id="body"></div>';
    page.load(current.params).then(function (data) {
      if (mine !== generation) return;
      document.getElementById('body').innerHTML = page.render(data, current.params);
      if (page.bind) page.bind(view, current.params, data);
      document.getElementById('live').className = 'live';
      view.setAttribute('data-loaded', current.name);
    }).catch(function (e) {
      if (mine !== generation) return;
      document.getElementById('live').className = 'live stale';
      var body = document.getElementById('body');
      if (body && (first || !body.innerHTML)) body.innerHTML = '<p class="error">' + esc(e.message) + '</p>';
    }).then(function () { if (mine === generation) busy = false; });
  }

  function route() {
    current = parseHash();
    document.querySelectorAll('nav a').forEach(function (a) {
      var p = a.getAttribute('data-page');
      a.className = (p === current.name || (p === 'streams' && current.name === 'stream')) ? 'on' : '';
    });
    document.getElementById('nav').className = '';
    document.getElementById('view').removeAttribute('data-loaded');
    generation++;
    busy = false;
    refresh(true);
    clearInterval(timer);
    timer = setInterval(function () {
      var page = pages[current.name] || pages.overview;
      if (!document.hidden && page.live !== false) refresh(false);
    }, POLL_MS);
  }

  function init() {
    document.getElementById('theme').addEventListener('click', function () {
      var dark = document.documentElement.getAttribute('data-theme') !== 'dark';
      document.documentElement.setAttribute('data-theme', dark ? 'dark' : 'light');
      try { localStorage.setItem('runnel-theme', dark ? 'dark' : 'light'); } catch (e) { /* storage off */ }
    });
    document.getElementById('menu').addEventListener('click', function () {
      var nav = document.getElementById('nav');
      nav.className = nav.className === 'open' ? '' : 'open';
    });
    var loggedOut = function () { return !document.getElementById('login').hidden; };
    window.addEventListener('hashchange', function () { if (!loggedOut()) route(); });
    document.getElementById('login').addEventListener('submit', login);
    document.getElementById('logout').addEventListener('click', logout);
    loadSession().then(route, function () { if (!loggedOut()) route(); });
  }

  document.addEventListener('DOMContentLoaded', init);

  return {
    pages: pages, get: get, action: action, canWrite: canWrite, session: currentSession, esc: esc, num: num, bytes: bytes,
    compact: compact, duration: duration, link: link, th: th, toast: toast, refresh: function () { refresh(false); }
  };
})();
