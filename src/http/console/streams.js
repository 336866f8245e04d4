/* Runnel console: one stream — its summary, groups and consumers (live)
 * with their dead-letter settings, a group's pending list with ack / claim
 * / delete, its entries page by page (dead-lettered ones with "Move back"
 * to their source stream), and trimming. Pages move with exclusive "(id" bounds, so each
 * request reads at most one page. */
'use strict';
(function () {
  var esc = App.esc, num = App.num, PAGE = 20;
  var state = null; /* per opened stream: paging cursors and the chosen group */
  var lastRead = {}; /* group -> {value, at}: entries-read between refreshes */

  function readRate(id, value) {
    var now = Date.now(), prev = lastRead[id], text = '-';
    if (value === null || value === undefined) return text;
    if (prev && now > prev.at) text = ((value - prev.value) * 1000 / (now - prev.at)).toFixed(1);
    if (!prev || now - prev.at > 1500) lastRead[id] = { value: value, at: now };
    return text;
  }

  function fresh(params) {
    return { key: params.key, db: params.db || 0, group: null, pend: { start: '-', back: [] },
      ent: { start: '+', back: [] } };
  }

  function entryFields(fields) {
    var out = [];
    for (var i = 0; fields && i + 1 < fields.length; i += 2) out.push('<b>' + esc(fields[i]) + '</b> ' + esc(fields[i + 1]));
    return '<span class="fields mono">' + out.join(' &middot; ') + '</span>';
  }

  function panel(title, body, id) {
    return '<section class="panel"' + (id ? ' id="' + id + '"' : '') + '><h2>' + title + '</h2>' + body + '</section>';
  }

  function table(head, rows, empty) {
    if (!rows.length) return '<p class="empty">' + esc(empty) + '</p>';
    return '<div class="scroll"><table><thead><tr>' + head.map(App.th).join('') + '</tr></thead><tbody>' +
      rows.join('') + '</tbody></table></div>';
  }

  function summary(doc) {
    var i = doc.info, first = i['first-entry'], last = i['last-entry'];
    return '<div class="cards">' +
      '<div class="card"><div class="k">Length</div><div class="v" data-test="stream-detail-length">' + num(i.length) +
      '</div></div><div class="card"><div class="k">Entries added</div><div class="v">' + num(i['entries-added']) +
      '</div></div><div class="card"><div class="k">Groups</div><div class="v" data-test="stream-detail-groups">' +
      num(i.groups) + '</div></div><div class="card"><div class="k">First entry</div><div class="s mono" ' +
      'data-test="stream-first-id">' + esc(first ? first[0] : '-') + '</div></div><div class="card"><div class="k">' +
      'Last entry</div><div class="s mono" data-test="stream-last-id">' + esc(last ? last[0] : '-') + '</div></div>' +
      '</div>';
  }

  /* A group's dead-letter settings (XINFO GROUPS' max-deliveries,
   * dead-letter-key, dead-lettered), linking to the dead-letter stream. */
  function deadLetterRow(g) {
    return '<tr class="sub" data-test="dlq-row" data-group="' + esc(g.name) + '"><td class="key" colspan="7">' +
      '&nbsp;&nbsp;dead letters &rarr; <a class="mono" data-test="group-dead-letter-key" href="' +
      App.link('stream', { key: g['dead-letter-key'], db: state.db }) + '">' + esc(g['dead-letter-key']) +
      '</a> &middot; max deliveries <span data-test="group-max-deliveries">' + num(g['max-deliveries']) +
      '</span> &middot; dead-lettered <span data-test="group-dead-lettered">' + num(g['dead-lettered']) +
      '</span></td></tr>';
  }

  /* Whether an entry was dead-lettered: its fields start with the
   * provenance fields (dlq-stream, dlq-id, ...); the server checks again. */
  function deadLettered(fields) {
    var seen = {};
    for (var i = 0; fields && i + 1 < fields.length && /^dlq-/.test(fields[i]); i += 2) seen[fields[i]] = true;
    return !!(seen['dlq-stream'] && seen['dlq-id']);
  }

  function groups(doc) {
    var rows = [];
    (doc.groups || []).forEach(function (g) {
      var consumers = Array.isArray(g.consumers) ? g.consumers : [];
      rows.push('<tr data-test="group-row" data-group="' + esc(g.name) + '"><td class="mono key"><b>' + esc(g.name) +
        '</b></td><td class="n" data-test="group-consumers">' + consumers.length + '</td><td class="n" ' +
        'data-test="group-pending">' + num(g.pending) + '</td><td class="n" data-test="group-lag">' +
        (g.lag === null ? '?' : num(g.lag)) + '</td><td class="mono">' + esc(g['last-delivered-id']) +
        '</td><td class="n hide-sm">' + num(g['entries-read']) + '</td><td class="n">' +
        readRate(state.db + '/' + state.key + '/' + g.name, g['entries-read']) + '</td></tr>');
      if (g['dead-letter-key'] !== undefined) rows.push(deadLetterRow(g));
      consumers.forEach(function (c) {
        rows.push('<tr class="sub" data-test="consumer-row" data-group="' + esc(g.name) + '" data-consumer="' +
          esc(c.name) + '"><td class="mono key">&nbsp;&nbsp;&#8627; ' + esc(c.name) + '</td><td></td><td class="n" ' +
          'data-test="consumer-pending">' + num(c.pending) + '</td><td class="n" colspan="4">idle ' +
          App.duration(c.idle) + (c.inactive !== undefined && c.inactive >= 0 ? ', inactive ' +
          App.duration(c.inactive) : '') + '</td></tr>');
      });
    });
    return panel('Consumer groups', table(['Group / consumer', '#Consumers', '#Pending', '#Lag', 'Last delivered',
      '~#Entries read', '#Read/s'], rows, 'No consumer groups.') + (doc.groups_omitted ? '<p class="empty">' +
      num(doc.groups_omitted) + ' more groups not shown.</p>' : ''));
  }

  /* Whether the logged-in user's ACL rules allow an action on this stream
   * (the server's "can" of /api/stream; it refuses with 403 anyway). */
  function may(kind) { return !!(state.can && state.can[kind]); }

  function refusedTitle(kind) {
    var user = App.session() ? App.session().user : '';
    return 'User ' + user + ' may not ' + (kind === 'moveback' ? 'move entries back' : kind) + ' on this stream (ACL)';
  }

  /* An action's button, disabled with the reason when the user may not. */
  function actButton(kind, label, id, cls) {
    var ok = may(kind);
    return '<button data-act="' + kind + '" data-test="' + kind + '" data-id="' + esc(id) + '"' +
      (cls ? ' class="' + cls + '"' : '') + (ok ? '' : ' disabled title="' + esc(refusedTitle(kind)) + '"') + '>' +
      label + '</button>';
  }

  /* The pending list of the chosen group, one page. */
  function loadPending() {
    var box = document.getElementById('pending');
    if (!box || !state.group) return Promise.resolve();
    return App.get('/api/stream/pending', { key: state.key, db: state.db, group: state.group,
      start: state.pend.start, count: PAGE }).then(function (d) {
      var rows = (Array.isArray(d.entries) ? d.entries : []).map(function (e) {
        return '<tr data-test="pending-row" data-id="' + esc(e[0]) + '"><td class="mono">' + esc(e[0]) +
          '</td><td class="mono">' + esc(e[1]) + '</td><td class="n">' + App.duration(e[2]) + '</td><td class="n">' +
          num(e[3]) + '</td><td>' + actButton('ack', 'Ack', e[0], '') + ' ' + actButton('claim', 'Claim', e[0], '') +
          ' ' + actButton('delete', 'Delete', e[0], 'danger') + '</td></tr>';
      });
      var total = Array.isArray(d.summary) ? d.summary[0] : 0;
      box.innerHTML = '<p class="empty" data-test="pending-total">' + num(total) + ' pending in ' + esc(state.group) +
        '</p>' + table(['ID', 'Consumer', '#Idle', '#Deliveries', ''], rows, 'Nothing pending.') +
        '<div class="row" style="margin-top:8px"><button id="pend-first"' + (state.pend.back.length ? '' : ' disabled') +
        '>First</button><button id="pend-next"' + (rows.length < PAGE ? ' disabled' : '') + '>Next page</button></div>';
      box.lastEntries = d.entries || [];
    });
  }

  /* One page of entries, newest first. */
  function loadEntries() {
    var box = document.getElementById('entries');
    if (!box) return Promise.resolve();
    return App.get('/api/stream/entries', { key: state.key, db: state.db, rev: 1, start: state.ent.start,
      count: PAGE }).then(function (d) {
      var list = Array.isArray(d.entries) ? d.entries : [];
      var dead = list.filter(function (e) { return deadLettered(e[1]); }).map(function (e) { return e[0]; });
      var rows = list.map(function (e) {
        return '<tr data-test="entry-row" data-id="' + esc(e[0]) + '"><td class="mono">' + esc(e[0]) +
          '</td><td class="key">' + entryFields(e[1]) + '</td>' + (dead.length ? '<td>' + (deadLettered(e[1]) ?
          actButton('moveback', 'Move back', e[0], '') : '') + '</td>' : '') + '</tr>';
      });
      box.innerHTML = table(dead.length ? ['ID', 'Fields', ''] : ['ID', 'Fields'], rows, 'No entries.') +
        '<div class="row" style="margin-top:8px">' +
        '<button id="ent-newer"' + (state.ent.back.length ? '' : ' disabled') + '>Newer</button><button id="ent-older"' +
        (list.length < PAGE ? ' disabled' : '') + '>Older</button>' + (dead.length ? '<button id="ent-moveback-all" ' +
        'data-test="moveback-all"' + (may('moveback') ? '' : ' disabled title="' + esc(refusedTitle('moveback')) + '"') +
        '>Move back all ' + dead.length + ' shown</button>' : '') + '</div>';
      box.lastEntries = list;
      box.deadIds = dead;
    });
  }

  function act(name, params, done) {
    App.action(name, params).then(function (r) {
      App.toast(name + ': ' + JSON.stringify(r));
      done();
    }).catch(function (e) { App.toast(name + ' failed: ' + e.message, true); });
  }

  function onPendingClick(ev) {
    var b = ev.target.closest('button');
    if (!b) return;
    var box = document.getElementById('pending');
    var reload = function () { loadPending(); App.refresh(); };
    if (b.id === 'pend-next') {
      var last = box.lastEntries[box.lastEntries.length - 1];
      state.pend.back.push(state.pend.start);
      state.pend.start = '(' + last[0];
      loadPending();
    } else if (b.id === 'pend-first') {
      state.pend = { start: '-', back: [] };
      loadPending();
    } else if (b.getAttribute('data-act')) {
      var kind = b.getAttribute('data-act'), id = b.getAttribute('data-id');
      var p = { key: state.key, db: state.db, group: state.group, id: id };
      if (kind === 'claim') {
        p.consumer = document.getElementById('claim-to').value.trim();
        if (!p.consumer) { App.toast('Type the consumer to claim for first', true); return; }
      }
      if (kind === 'delete' && !window.confirm('Acknowledge and delete entry ' + id + '?')) return;
      act(kind, p, reload);
    }
  }

  function onEntriesClick(ev) {
    var b = ev.target.closest('button');
    if (!b) return;
    var box = document.getElementById('entries');
    if (b.id === 'ent-older') {
      state.ent.back.push(state.ent.start);
      state.ent.start = '(' + box.lastEntries[box.lastEntries.length - 1][0];
    } else if (b.id === 'ent-newer') {
      state.ent.start = state.ent.back.pop() || '+';
    } else if (b.id === 'ent-moveback-all' || b.getAttribute('data-act') === 'moveback') {
      var ids = b.id === 'ent-moveback-all' ? box.deadIds : [b.getAttribute('data-id')];
      if (!window.confirm('Move ' + ids.length + ' dead-lettered ' + (ids.length === 1 ? 'entry' : 'entries') +
        ' back to ' + (ids.length === 1 ? 'its source stream' : 'their source streams') + '?')) return;
      act('moveback', { key: state.key, db: state.db, id: ids.join(',') }, function () { loadEntries(); App.refresh(); });
      return;
    }
    loadEntries();
  }

  App.pages.stream = {
    frame: function (params) {
      state = fresh(params);
      return '<h1>Stream <code>' + esc(params.key) + '</code></h1><div id="body"></div>' +
        panel('Pending entries', '<div class="row"><label>Group <select id="pgroup"></select></label>' +
          '<label>Claim for <input id="claim-to" placeholder="consumer" size="12"></label>' +
          '</div><div id="pending"></div>', 'pending-panel') +
        panel('Entries', '<div id="entries"></div>') +
        panel('Trim', '<div class="row"><select id="trim-strategy"><option value="maxlen">MAXLEN</option>' +
          '<option value="minid">MINID</option></select><input id="trim-threshold" size="22" placeholder="1000">' +
          '<button id="trim" data-test="trim" class="danger" disabled>Trim</button></div>');
    },
    load: function (params) { return App.get('/api/stream', { key: params.key, db: params.db || 0 }); },
    render: function (doc) {
      if (doc.error) return '<p class="error">' + esc(doc.error) + '</p>';
      return summary(doc) + groups(doc);
    },
    bind: function (view, params, doc) {
      state.can = doc.can || {};
      var trimButton = view.querySelector('#trim');
      trimButton.disabled = !may('trim');
      trimButton.title = may('trim') ? '' : refusedTitle('trim');
      view.querySelector('#claim-to').disabled = !may('claim');
      var sel = view.querySelector('#pgroup');
      var names = (doc.groups || []).map(function (g) { return g.name; });
      if (!sel.bound) {
        sel.bound = true;
        sel.addEventListener('change', function () { state.group = sel.value; state.pend = { start: '-', back: [] }; loadPending(); });
        view.querySelector('#pending').addEventListener('click', onPendingClick);
        view.querySelector('#entries').addEventListener('click', onEntriesClick);
        var trim = view.querySelector('#trim');
        if (trim) trim.addEventListener('click', function () {
          var p = { key: state.key, db: state.db, strategy: view.querySelector('#trim-strategy').value,
            threshold: view.querySelector('#trim-threshold').value.trim() };
          if (!p.threshold || !window.confirm('Trim ' + state.key + ' to ' + p.strategy + ' ' + p.threshold + '?')) return;
          act('trim', p, function () { loadEntries(); App.refresh(); });
        });
      }
      if (sel.getAttribute('data-names') !== names.join('\n')) {
        sel.setAttribute('data-names', names.join('\n'));
        sel.innerHTML = names.map(function (n) { return '<option>' + esc(n) + '</option>'; }).join('');
        if (names.indexOf(state.group) < 0) state.group = names[0] || null;
        sel.value = state.group || '';
      }
      loadPending();
      loadEntries();
    }
  };
})();
