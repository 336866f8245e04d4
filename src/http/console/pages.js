/* Runnel console: the overview, queues, streams, pub/sub, clients, slow
 * log and topology pages. Each page: load(params) -> data, render(data) ->
 * HTML of #body, optional frame(params) (controls kept across refreshes)
 * and bind(view, params, data). Elements the browser test reads carry
 * data-test attributes. */
'use strict';
(function () {
  var P = App.pages, esc = App.esc, num = App.num;

  function card(label, value, sub, test) {
    return '<div class="card"><div class="k">' + esc(label) + '</div><div class="v"' +
      (test ? ' data-test="' + test + '"' : '') + '>' + value + '</div>' +
      (sub ? '<div class="s">' + sub + '</div>' : '') + '</div>';
  }

  function panel(title, body) {
    return '<section class="panel"><h2>' + esc(title) + '</h2>' + body + '</section>';
  }

  function table(head, rows, empty) {
    if (!rows.length) return '<p class="empty">' + esc(empty || 'None.') + '</p>';
    return '<div class="scroll"><table><thead><tr>' + head.map(App.th).join('') + '</tr></thead><tbody>' +
      rows.join('') + '</tbody></table></div>';
  }

  function status(v) {
    var ok = v === 'ok' || v === 'up' || v === 'connected' || v === 'online';
    return '<span class="badge ' + (ok ? 'ok' : 'bad') + '">' + esc(v) + '</span>';
  }

  function chart(title, hist, names, keys, fmt) {
    return panel(title, Charts.line({
      t: hist.t, fmt: fmt || App.compact, label: title,
      series: keys.map(function (k, i) { return { name: names[i], values: hist[k] || [] }; })
    }));
  }

  function loadWithHistory(path) {
    return Promise.all([App.get(path), App.get('/api/history')]).then(function (r) {
      return { doc: r[0], hist: r[1] };
    });
  }

  /* --- overview --- */
  P.overview = {
    load: function () { return loadWithHistory('/api/overview'); },
    render: function (d) {
      var i = d.doc.info, st = i.stats || {}, mem = i.memory || {}, cl = i.clients || {}, srv = i.server || {};
      var ps = i.persistence || {}, rep = i.replication || {};
      var keys = 0;
      (d.doc.databases || []).forEach(function (db) { keys += db.keys; });
      var html = '<h1>Overview</h1><div class="cards">' +
        card('Commands/s', num(st.instantaneous_ops_per_sec), num(st.total_commands_processed) + ' in all', 'ops') +
        card('Memory', App.bytes(mem.used_memory), 'peak ' + App.bytes(mem.used_memory_peak) + ', RSS ' +
          App.bytes(mem.used_memory_rss), 'memory') +
        card('Clients', num(cl.connected_clients), num(cl.blocked_clients) + ' blocked, ' + num(cl.pubsub_clients) +
          ' subscribed', 'clients') +
        card('Keys', num(keys), (d.doc.databases || []).map(function (db) {
          return 'db' + db.db + ': ' + num(db.keys);
        }).join(', ') || 'empty', 'keys') +
        card('Role', esc(rep.role || '-'), num(rep.connected_slaves) + ' replicas', 'role') +
        card('Uptime', App.duration((srv.uptime_in_seconds || 0) * 1000), 'Runnel ' + esc(srv.runnel_version || '') +
          ' (Redis ' + esc(srv.redis_version || '') + ')') +
        '</div><div class="grid2">' +
        chart('Commands per second', d.hist, ['ops/s'], ['ops']) +
        chart('Memory used', d.hist, ['bytes'], ['memory'], App.bytes) +
        chart('Clients', d.hist, ['connected', 'blocked'], ['clients', 'blocked']) +
        chart('Network (bytes/s)', d.hist, ['in', 'out'], ['net_in', 'net_out'], App.bytes) +
        '</div><div class="grid2" style="margin-top:14px">' +
        panel('Persistence', table(['Setting', 'Value'], [
          ['AOF', ps.aof_enabled ? 'on' : 'off'],
          ['Last AOF write', status(ps.aof_last_write_status)],
          ['AOF rewrite running', ps.aof_rewrite_in_progress ? 'yes' : 'no'],
          ['AOF size', App.bytes(ps.aof_current_size)],
          ['Last snapshot', ps.rdb_last_save_time ? esc(new Date(ps.rdb_last_save_time * 1000).toLocaleString()) : '-'],
          ['Last snapshot status', status(ps.rdb_last_bgsave_status)],
          ['Changes since snapshot', num(ps.rdb_changes_since_last_save)]
        ].map(function (r) {
          var test = 'persist-' + r[0].replace(/\W+/g, '-').toLowerCase();
          return '<tr><td>' + r[0] + '</td><td data-test="' + test + '">' + r[1] + '</td></tr>';
        }))) +
        panel('Replication', table(['Field', 'Value'], Object.keys(rep).filter(function (k) {
          return !/^master_replid|^second_repl|^repl_backlog_first/.test(k);
        }).map(function (k) {
          return '<tr><td>' + esc(k) + '</td><td class="mono">' + esc(rep[k]) + '</td></tr>';
        }))) + '</div>';
      return html;
    }
  };

  /* How fast a counter moves between two refreshes of a page: store keeps
   * each id's last reading; '-' until there are two. */
  function rate(store, id, value) {
    var now = Date.now(), prev = store[id], text = '-';
    if (prev && now > prev.at) text = ((value - prev.value) * 1000 / (now - prev.at)).toFixed(1);
    if (!prev || now - prev.at > 1500) store[id] = { value: value, at: now };
    return text;
  }

  /* --- queues: lists matching metrics-list-patterns --- */
  var lastLengths = {}, lastPushed = {}, lastPopped = {};
  /* A rate from a list's own count (null when the list is not counted). */
  function countRate(store, id, value) {
    return value === null || value === undefined ? '-' : rate(store, id, value);
  }
  P.queues = {
    load: function () { return loadWithHistory('/api/queues'); },
    render: function (d) {
      var rows = d.doc.queues.map(function (q) {
        var id = q.db + '/' + q.key;
        return '<tr data-test="queue-row" data-key="' + esc(q.key) + '"><td class="key mono">' + esc(q.key) +
          '</td><td class="n">' + q.db + '</td><td class="n" data-test="queue-length">' + num(q.length) +
          '</td><td class="n" data-test="queue-pushed">' + num(q.pushed) + '</td><td class="n" data-test="queue-popped">' +
          num(q.popped) + '</td><td class="n">' + countRate(lastPushed, id, q.pushed) + '</td><td class="n">' +
          countRate(lastPopped, id, q.popped) + '</td><td class="n hide-sm">' + rate(lastLengths, id, q.length) +
          '</td></tr>';
      });
      return '<h1>Queues</h1>' +
        '<div class="grid2">' +
        chart('Pushes and pops per second (all lists)', d.hist, ['pushes', 'pops'], ['pushes', 'pops']) +
        chart('Blocked clients', d.hist, ['blocked'], ['blocked']) + '</div><div style="height:14px"></div>' +
        panel('Lists matching metrics-list-patterns', table(['Key', '#DB', '#Length', '#Pushed', '#Popped', '#Push/s', '#Pop/s', '~#Change/s'], rows,
          'No list matches metrics-list-patterns.') +
          (d.doc.omitted ? '<p class="empty">' + num(d.doc.omitted) + ' more left out (metrics-max-series).</p>' : ''));
    }
  };

  /* --- streams --- */
  var lastAdded = {};
  P.streams = {
    load: function () { return loadWithHistory('/api/streams'); },
    render: function (d) {
      var rows = d.doc.streams.map(function (s) {
        var pending = 0, lag = 0, consumers = 0, lagKnown = true;
        s.groups.forEach(function (g) {
          pending += g.pending;
          consumers += g.consumers.length;
          if (g.lag === null) lagKnown = false; else lag += g.lag;
        });
        return '<tr data-test="stream-row" data-key="' + esc(s.key) + '"><td class="key mono"><a href="' +
          App.link('stream', { key: s.key, db: s.db }) + '">' + esc(s.key) + '</a></td><td class="n">' + s.db +
          '</td><td class="n" data-test="stream-length">' + num(s.length) +
          '</td><td class="n" data-test="stream-groups">' +
          s.groups.length + '</td><td class="n">' + consumers + '</td><td class="n" data-test="stream-pending">' +
          num(pending) + '</td><td class="n">' + (lagKnown ? num(lag) : '?') + '</td><td class="n">' +
          rate(lastAdded, s.db + '/' + s.key, s.entries_added) + '</td><td class="mono hide-sm">' + esc(s.last_id) +
          '</td></tr>';
      });
      return '<h1>Streams</h1><div class="grid2">' +
        chart('Entries added and read per second', d.hist, ['XADD', 'XREADGROUP'], ['xadds', 'xreadgroups']) +
        chart('Acknowledgements per second', d.hist, ['XACK'], ['xacks']) + '</div><div style="height:14px"></div>' +
        panel('Streams', table(['Stream', '#DB', '#Length', '#Groups', '#Consumers', '#Pending', '#Lag', '#Added/s',
          '~Last ID'],
          rows, 'No streams.') +
          (d.doc.omitted ? '<p class="empty">' + num(d.doc.omitted) + ' more left out (metrics-max-series).</p>' : ''));
    }
  };

  /* --- pub/sub --- */
  function nameRows(list, kind) {
    return list.map(function (c) {
      return '<tr data-test="' + kind + '-row" data-name="' + esc(c.name) + '"><td class="key mono">' + esc(c.name) +
        '</td><td class="n" data-test="' + kind + '-subs">' + num(c.subscribers) + '</td></tr>';
    });
  }

  P.pubsub = {
    load: function () { return loadWithHistory('/api/pubsub'); },
    render: function (d) {
      var doc = d.doc, tot = doc.totals;
      var subs = doc.subscribers.map(function (c) {
        var owed = Number(c.owed_bytes);
        return '<tr data-test="subscriber-row" data-id="' + esc(c.id) + '"><td class="n">' + esc(c.id) +
          '</td><td class="mono">' + esc(c.addr) + '</td><td>' + esc(c.name) + '</td><td class="n">' + esc(c.sub) +
          '</td><td class="n">' + esc(c.psub) + '</td><td class="n" data-test="subscriber-owed">' +
          (owed > 0 ? '<span class="badge warn">' + App.bytes(owed) + '</span>' : '0') + '</td></tr>';
      });
      function more(n, shown) { return n > shown ? '<p class="empty">' + num(n - shown) + ' more not shown.</p>' : ''; }
      return '<h1>Pub/Sub</h1><div class="cards">' +
        card('Channels', num(tot.channels), null, 'channels-total') +
        card('Patterns', num(tot.patterns), null, 'patterns-total') +
        card('Shard channels', num(tot.shard_channels)) +
        card('Subscribed clients', num(doc.subscribed_clients), null, 'subscribed-clients') + '</div>' +
        chart('Messages published per second', d.hist, ['PUBLISH'], ['publishes']) +
        '<div class="grid2">' +
        panel('Channels', table(['Channel', '#Subscribers'], nameRows(doc.channels, 'channel'), 'No channels.') +
          more(tot.channels, doc.channels.length)) +
        panel('Patterns', table(['Pattern', '#Subscribers'], nameRows(doc.patterns, 'pattern'), 'No patterns.') +
          more(tot.patterns, doc.patterns.length)) +
        (tot.shard_channels ? panel('Shard channels', table(['Channel', '#Subscribers'],
          nameRows(doc.shard_channels, 'shard'))) : '') + '</div><div style="height:14px"></div>' +
        panel('Subscribers, most bytes owed first (slow subscribers)',
          table(['#ID', 'Address', 'Name', '#Channels', '#Patterns', '#Owed'], subs, 'No subscribers.'));
    }
  };

  /* --- clients --- */
  P.clients = {
    frame: function () {
      return '<h1>Clients</h1><div class="row"><label>Type <select id="ctype"><option value="">all</option>' +
        '<option>normal</option><option>pubsub</option><option>replica</option><option>master</option></select>' +
        '</label><input id="cq" type="search" placeholder="filter: address, name, command..." size="28">' +
        '</div><div id="body"></div>';
    },
    load: function () {
      var t = document.getElementById('ctype'), q = document.getElementById('cq');
      return App.get('/api/clients', { type: t ? t.value : '', q: q ? q.value : '', limit: 500 });
    },
    render: function (d) {
      var rows = d.clients.map(function (c) {
        return '<tr data-test="client-row" data-id="' + esc(c.id) + '"><td class="n">' + esc(c.id) +
          '</td><td class="mono">' + esc(c.addr) + '</td><td>' + esc(c.name) + '</td><td>' + esc(c.type) +
          '</td><td class="n">' + App.duration(c.age * 1000) + '</td><td class="n">' + App.duration(c.idle * 1000) +
          '</td><td class="n">' + esc(c.db) + '</td><td class="n hide-sm">' + esc(c.sub) + '/' + esc(c.psub) +
          '</td><td class="mono" data-test="client-cmd">' + esc(c.cmd) + '</td><td class="n">' + App.bytes(c.omem) +
          '</td><td class="mono">' + esc(c.flags) + '</td></tr>';
      });
      return '<p class="empty" data-test="clients-count">' + num(d.matched) + ' of ' + num(d.total) + ' clients' +
        (d.matched > d.clients.length ? ', first ' + d.clients.length + ' shown' : '') + '</p>' +
        table(['#ID', 'Address', 'Name', 'Type', '#Age', '#Idle', '#DB', '~#Sub/psub', 'Last command', '#Out mem',
          'Flags'],
          rows, 'No client matches.');
    },
    bind: function (view) {
      var t = view.querySelector('#ctype'), q = view.querySelector('#cq');
      if (t.bound) return;
      t.bound = true;
      t.addEventListener('change', App.refresh);
      q.addEventListener('input', App.refresh);
    }
  };

  /* --- slow log and latency --- */
  function commandStats(stats) {
    return Object.keys(stats).map(function (k) {
      var o = { name: k.replace(/^cmdstat_/, '') };
      String(stats[k]).split(',').forEach(function (kv) {
        var i = kv.indexOf('=');
        o[kv.slice(0, i)] = Number(kv.slice(i + 1));
      });
      return o;
    }).sort(function (a, b) { return b.usec - a.usec; }).slice(0, 25);
  }

  P.slowlog = {
    load: function () { return App.get('/api/slowlog'); },
    render: function (d) {
      var slow = (Array.isArray(d.slowlog) ? d.slowlog : []).map(function (e) {
        return '<tr data-test="slowlog-row"><td class="n" data-test="slowlog-id">' + esc(e[0]) + '</td><td>' +
          esc(new Date(e[1] * 1000).toLocaleTimeString()) + '</td><td class="n">' + num(e[2]) +
          '</td><td class="mono key" data-test="slowlog-command">' + esc((e[3] || []).join(' ')) +
          '</td><td class="mono hide-sm">' + esc(e[4]) +
          ' ' + esc(e[5]) + '</td></tr>';
      });
      var lat = (Array.isArray(d.latency) ? d.latency : []).map(function (e) {
        return '<tr><td>' + esc(e[0]) + '</td><td>' + esc(new Date(e[1] * 1000).toLocaleTimeString()) +
          '</td><td class="n">' + num(e[2]) + '</td><td class="n">' + num(e[3]) + '</td></tr>';
      });
      var cmds = commandStats(d.commandstats || {}).map(function (c) {
        return '<tr><td class="mono">' + esc(c.name) + '</td><td class="n">' + num(c.calls) + '</td><td class="n">' +
          num(c.usec) + '</td><td class="n">' + esc(c.usec_per_call) + '</td><td class="n">' + num(c.failed_calls) +
          '</td></tr>';
      });
      return '<h1>Slow log and latency</h1>' +
        panel('Slow log (' + num(d.slowlog_len) + ' entries, newest first)',
          table(['#ID', 'Time', '#µs', 'Command', '~Client'], slow, 'The slow log is empty.')) +
        '<div class="grid2">' +
        panel('Latency events (LATENCY LATEST, ms)', table(['Event', 'Last', '#Latest', '#Max'], lat,
          'No latency event recorded (latency-monitor-threshold).')) +
        panel('Commands by total time', table(['Command', '#Calls', '#µs', '#µs/call', '#Failed'], cmds)) + '</div>';
    }
  };

  /* --- replication and cluster topology --- */
  function kv(text) {
    var o = {};
    String(text).split(',').forEach(function (p) {
      var i = p.indexOf('=');
      if (i > 0) o[p.slice(0, i)] = p.slice(i + 1);
    });
    return o;
  }

  P.topology = {
    load: function () { return App.get('/api/topology'); },
    render: function (d) {
      var r = d.replication, html = '<h1>Topology</h1>';
      html += '<div class="cards">' + card('This node', esc(r.role), null, 'topology-role') +
        card('Replicas', num(r.connected_slaves)) + card('Replication offset', num(r.master_repl_offset)) + '</div>';
      if (r.role === 'slave') {
        html += panel('Primary', table(['Field', 'Value'], ['master_host', 'master_port', 'master_link_status',
          'master_last_io_seconds_ago', 'master_sync_in_progress', 'slave_repl_offset', 'slave_read_only'
        ].map(function (k) {
          var v = k === 'master_link_status' ? status(r[k]) : esc(r[k]);
          return '<tr><td>' + k + '</td><td class="mono">' + v + '</td></tr>';
        })));
      }
      var replicas = Object.keys(r).filter(function (k) { return /^slave\d+$/.test(k); }).map(function (k) {
        var s = kv(r[k]);
        return '<tr data-test="replica-row"><td class="mono">' + esc(s.ip) + ':' + esc(s.port) + '</td><td>' +
          status(s.state) + '</td><td class="n">' + num(s.offset) + '</td><td class="n">' + num(s.lag) + '</td></tr>';
      });
      html += panel('Replicas', table(['Address', 'State', '#Offset', '#Lag (s)'], replicas, 'No replica connected.'));
      if (d.cluster_enabled && typeof d.cluster_nodes === 'string') {
        var nodes = d.cluster_nodes.trim().split('\n').filter(Boolean).map(function (line) {
          var f = line.split(' ');
          return '<tr data-test="node-row"><td class="mono">' + esc(f[0].slice(0, 10)) + '</td><td class="mono">' +
            esc(f[1]) + '</td><td>' + esc(f[2]) + '</td><td class="mono">' + esc(f[3] === '-' ? '' : f[3].slice(0, 10)) +
            '</td><td>' + status(f[7]) + '</td><td class="mono key">' + esc(f.slice(8).join(' ')) + '</td></tr>';
        });
        html += panel('Cluster nodes', table(['Node', 'Address', 'Flags', 'Primary', 'Link', 'Slots'], nodes));
        if (typeof d.cluster_info === 'string') html += panel('Cluster', '<pre class="mono">' + esc(d.cluster_info) + '</pre>');
      } else {
        html += panel('Cluster', '<p class="empty">Not a cluster node (cluster-enabled no).</p>');
      }
      return html;
    }
  };
})();
