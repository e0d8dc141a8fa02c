/*
 * report.js — the page of `runlog report` (spec/EXPORTS.md §13): reads the
 * JSON of #runlog-data and builds the runs table, the chart panels (one per
 * metric key, one line per run, grouped by key prefix; Dygraph from
 * Debian's dygraphs, inlined beside this script) and each run's media.
 * Compiled into librunlog-export (lib/export/meson.build). It reaches no
 * network: everything it shows is in the page.
 *
 * When it is done, <body> carries data-rendered="1", data-panels (the count)
 * and data-errors (what window.runlogErrors holds); each panel carries
 * data-key and data-lines (the labels Dygraph drew, '\n'-separated), so that
 * a test reads them from the DOM (tests/report/).
 */
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('runlog-data').textContent);
  var runs = data.runs;
  var graphs = [];

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs)
      for (var k in attrs)
        if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function show(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'object') return JSON.stringify(v);
    if (typeof v === 'number' && !Number.isInteger(v)) return String(+v.toPrecision(6));
    return String(v);
  }
  function iso(t) {
    if (t === null || t === undefined) return '';
    return new Date(t * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }
  function duration(s) {
    if (!(s >= 0)) return '';
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), x = Math.floor(s % 60);
    return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + x + 's';
  }

  /* Labels: the run name, made unique with the short id when names repeat. */
  var seen = {};
  runs.forEach(function (r) { var n = r.name || r.id.slice(0, 8); seen[n] = (seen[n] || 0) + 1; });
  runs.forEach(function (r) {
    var n = r.name || r.id.slice(0, 8);
    r.label = seen[n] > 1 ? n + ' (' + r.id.slice(0, 8) + ')' : n;
  });

  var main = el('main');
  document.body.appendChild(main);
  var head = el('header');
  head.appendChild(el('h1', null, 'runlog report'));
  head.appendChild(el('span', { 'class': 'sub' }, runs.length + ' run' + (runs.length === 1 ? '' : 's') +
    ' · runlog ' + data.runlog));
  var logLabel = el('label', { 'class': 'toggle' });
  var logBox = el('input', { type: 'checkbox', id: 'logscale' });
  logLabel.appendChild(logBox);
  logLabel.appendChild(document.createTextNode(' log scale'));
  head.appendChild(logLabel);
  main.appendChild(head);

  /* ---- the runs table: fixed columns, then config and summary keys whose
   * values vary across the runs (all of them for a single run) ---- */
  function varying(field) {
    var keys = [], vals = {};
    runs.forEach(function (r) {
      Object.keys(r[field] || {}).forEach(function (k) {
        if (!(k in vals)) { keys.push(k); vals[k] = {}; }
        vals[k][JSON.stringify(r[field][k])] = 1;
      });
    });
    return keys.filter(function (k) {
      var v = r0(field, k);
      return runs.length === 1 ? typeof v !== 'object' || v === null :
        Object.keys(vals[k]).length > 1 || runs.some(function (r) { return !(k in (r[field] || {})); });
    });
  }
  function r0(field, k) { return (runs[0][field] || {})[k]; }
  var cols = [
    { name: 'name', get: function (r) { return r.label; } },
    { name: 'id', get: function (r) { return r.id.slice(0, 8); } },
    { name: 'project', get: function (r) { return r.project; } },
    { name: 'group', get: function (r) { return r.group; } },
    { name: 'state', get: function (r) { return r.state; } },
    { name: 'start', get: function (r) { return r.start; }, fmt: iso },
    { name: 'duration', get: function (r) { return r.end - r.start; }, fmt: duration },
    { name: 'rows', get: function (r) { return r.rows; } },
    { name: 'last step', get: function (r) { return r.last_step; } }
  ];
  varying('config').forEach(function (k) {
    cols.push({ name: 'config.' + k, get: function (r) { return (r.config || {})[k]; } });
  });
  varying('summary').forEach(function (k) {
    cols.push({ name: 'summary.' + k, get: function (r) { return (r.summary || {})[k]; } });
  });
  var sec = el('section', { id: 'runs' });
  sec.appendChild(el('h2', null, 'Runs'));
  var wrap = el('div', { 'class': 'scroll' });
  var table = el('table', { 'class': 'runs sortable' });
  var thead = el('thead'), tbody = el('tbody'), hr = el('tr');
  cols.forEach(function (c, i) {
    var th = el('th', { 'data-col': i, title: 'sort by ' + c.name }, c.name);
    th.addEventListener('click', function () { sortBy(i); });
    hr.appendChild(th);
  });
  thead.appendChild(hr);
  table.appendChild(thead);
  table.appendChild(tbody);
  var order = runs.map(function (r, i) { return i; }), sortCol = -1, sortDir = 1;
  function fillRuns() {
    tbody.textContent = '';
    order.forEach(function (ri) {
      var r = runs[ri], tr = el('tr', { 'data-run': r.id, 'class': 'state-' + r.state });
      cols.forEach(function (c) {
        var v = c.get(r);
        var td = el('td', null, c.fmt ? c.fmt(v) : show(v));
        if (typeof v === 'number') td.className = 'num';
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
  }
  function cmp(a, b) {
    if (a === b) return 0;
    if (a === null || a === undefined) return 1;
    if (b === null || b === undefined) return -1;
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    return String(a) < String(b) ? -1 : 1;
  }
  function sortBy(i) {
    sortDir = sortCol === i ? -sortDir : 1;
    sortCol = i;
    order.sort(function (x, y) { return sortDir * cmp(cols[i].get(runs[x]), cols[i].get(runs[y])) || x - y; });
    Array.prototype.forEach.call(hr.children, function (th, k) {
      th.className = k === i ? (sortDir > 0 ? 'asc' : 'desc') : '';
    });
    fillRuns();
  }
  fillRuns();
  wrap.appendChild(table);
  sec.appendChild(wrap);
  main.appendChild(sec);

  /* ---- chart panels: one per key, one line per run ---- */
  var palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
    '#7f7f7f', '#bcbd22', '#17becf'];
  function keysOf(field) {
    var keys = [], had = {};
    runs.forEach(function (r) {
      Object.keys(r[field] || {}).forEach(function (k) { if (!had[k]) { had[k] = 1; keys.push(k); } });
    });
    return keys;
  }
  /* Dygraph's rows: the union of every line's x, one column per run that has
   * the key (null where that run has no point: connectSeparatedPoints). */
  function panel(grid, field, key, xlabel) {
    var lines = [], idx = [];
    runs.forEach(function (r, i) { if (r[field] && r[field][key]) { lines.push(r[field][key]); idx.push(i); } });
    var xs = {}, all = [];
    lines.forEach(function (l) { l.x.forEach(function (x) { if (!(x in xs)) { xs[x] = 1; all.push(x); } }); });
    all.sort(function (a, b) { return a - b; });
    var pos = {};
    all.forEach(function (x, i) { pos[x] = i; });
    var rows = all.map(function (x) { var row = [x]; for (var k = 0; k < lines.length; k++) row.push(null); return row; });
    lines.forEach(function (l, k) {
      for (var i = 0; i < l.x.length; i++) rows[pos[l.x[i]]][k + 1] = l.y[i];
    });
    var labels = [xlabel].concat(idx.map(function (i) { return runs[i].label; }));
    var thinned = lines.some(function (l) { return l.n > l.x.length; });
    var box = el('div', { 'class': 'panel', 'data-key': key, 'data-field': field });
    box.appendChild(el('div', { 'class': 'title' }, key + (thinned ? ' (down-sampled)' : '')));
    var chart = el('div', { 'class': 'chart' });
    var legend = el('div', { 'class': 'legend' });
    box.appendChild(chart);
    box.appendChild(legend);
    grid.appendChild(box);
    if (!rows.length) { chart.textContent = 'no finite values'; box.setAttribute('data-lines', ''); return; }
    var g = new Dygraph(chart, rows, {
      labels: labels,
      xlabel: xlabel,
      colors: idx.map(function (i) { return palette[i % palette.length]; }),
      connectSeparatedPoints: true,
      drawPoints: rows.length < 60,
      strokeWidth: 1.5,
      labelsDiv: legend,
      legend: 'always',
      labelsSeparateLines: false,
      highlightSeriesOpts: { strokeWidth: 2.5 },
      logscale: logBox.checked,
      animatedZooms: false,
      axes: { y: { axisLabelWidth: 64 } }
    });
    graphs.push(g);
    box.setAttribute('data-lines', g.getLabels().slice(1).join('\n'));
  }
  function prefixOf(k) { var i = k.indexOf('/'); return i > 0 ? k.slice(0, i) : ''; }
  function panels(title, field, xlabel, id) {
    var keys = keysOf(field);
    if (!keys.length) return;
    var groups = [], byName = {};
    keys.forEach(function (k) {
      var p = prefixOf(k);
      if (!(p in byName)) { byName[p] = []; groups.push(p); }
      byName[p].push(k);
    });
    /* W&B's workspace: a section per prefix, the keys without one first */
    groups.sort(function (a, b) { return a === '' ? -1 : b === '' ? 1 : 0; });
    /* attached before the charts are drawn: Dygraph sizes itself from the
     * laid-out element (a detached one is 0 x 0) */
    var s = el('section', { id: id });
    main.appendChild(s);
    s.appendChild(el('h2', null, title));
    groups.forEach(function (p) {
      var d = el('details', { open: '', 'class': 'group', 'data-prefix': p });
      d.appendChild(el('summary', null, (p ? p + '/' : (id === 'system' ? 'system' : 'charts')) +
        ' (' + byName[p].length + ')'));
      var grid = el('div', { 'class': 'grid' });
      d.appendChild(grid);
      s.appendChild(d);
      byName[p].forEach(function (k) { panel(grid, field, k, xlabel); });
    });
  }
  panels('Charts', 'metrics', 'step', 'charts');
  panels('System', 'system', 'seconds', 'system');
  logBox.addEventListener('change', function () {
    graphs.forEach(function (g) { g.updateOptions({ logscale: logBox.checked }); });
  });

  /* ---- each run: tables, images, artifacts, alerts, console tail ---- */
  function image(img, cls) {
    if (img.src) {
      var i = el('img', { src: img.src, alt: img.caption || '', 'class': cls || '' });
      if (img.width) i.setAttribute('data-width', img.width);
      return i;
    }
    return el('span', { 'class': 'missing' }, img.omitted || img.error || 'not shown');
  }
  var rsec = el('section', { id: 'details' });
  rsec.appendChild(el('h2', null, 'Runs in detail'));
  runs.forEach(function (r, ri) {
    var d = el('details', { 'class': 'run', 'data-run': r.id });
    if (runs.length <= 3) d.setAttribute('open', '');
    d.appendChild(el('summary', null, r.label + ' · ' + r.state + ' · ' + r.id));
    var meta = el('dl', { 'class': 'meta' });
    [['project', r.project], ['group', r.group], ['job type', r.job_type], ['tags', r.tags && r.tags.join(', ')],
      ['notes', r.notes], ['start', iso(r.start)], ['duration', duration(r.end - r.start)],
      ['exit code', r.state === 'failed' ? r.exit_code : null], ['files', r.files.join('\n')]
    ].forEach(function (kv) {
      if (kv[1] === null || kv[1] === undefined || kv[1] === '') return;
      meta.appendChild(el('dt', null, kv[0]));
      meta.appendChild(el('dd', null, kv[1]));
    });
    d.appendChild(meta);
    function kvTable(title, obj) {
      var keys = Object.keys(obj || {});
      if (!keys.length) return;
      d.appendChild(el('h3', null, title));
      var t = el('table', { 'class': 'kv' });
      keys.forEach(function (k) {
        var tr = el('tr');
        tr.appendChild(el('th', null, k));
        tr.appendChild(el('td', null, show(obj[k])));
        t.appendChild(tr);
      });
      d.appendChild(t);
    }
    kvTable('Config', r.config);
    kvTable('Summary', r.summary);
    r.tables.forEach(function (t) {
      d.appendChild(el('h3', null, 'Table ' + t.key + ' @ step ' + t.step +
        (t.nrows > (t.rows || []).length ? ' (first ' + t.rows.length + ' of ' + t.nrows + ' rows)' : '')));
      if (t.error) { d.appendChild(el('p', { 'class': 'missing' }, t.error)); return; }
      var w = el('div', { 'class': 'scroll' });
      var tt = el('table', { 'class': 'media', 'data-table': t.key });
      var h = el('tr');
      t.columns.forEach(function (c) { h.appendChild(el('th', null, c)); });
      tt.appendChild(h);
      t.rows.forEach(function (row) {
        var tr = el('tr');
        row.forEach(function (c) {
          var td = el('td');
          if (c && typeof c === 'object' && ('src' in c || 'omitted' in c || 'error' in c)) td.appendChild(image(c, 'cell'));
          else td.textContent = show(c);
          tr.appendChild(td);
        });
        tt.appendChild(tr);
      });
      w.appendChild(tt);
      d.appendChild(w);
    });
    if (r.images.length) {
      d.appendChild(el('h3', null, 'Images (the last ' + data.bounds.images + ' of each key)'));
      var strip = el('div', { 'class': 'images' });
      r.images.forEach(function (img) {
        var f = el('figure', { 'data-key': img.key });
        f.appendChild(image(img));
        f.appendChild(el('figcaption', null, img.key + ' @ ' + img.step + (img.caption ? ': ' + img.caption : '')));
        strip.appendChild(f);
      });
      d.appendChild(strip);
    }
    if (r.artifacts.length) {
      d.appendChild(el('h3', null, 'Artifacts'));
      var at = el('table', { 'class': 'artifacts' });
      var ah = el('tr');
      ['name', 'version', 'type', 'aliases', 'files', 'size', 'digest'].forEach(function (c) { ah.appendChild(el('th', null, c)); });
      at.appendChild(ah);
      r.artifacts.forEach(function (a) {
        var tr = el('tr');
        [a.name, 'v' + a.version, a.type, (a.aliases || []).join(', '), a.files,
          a.size === null ? '' : a.size.toLocaleString('en') + ' B', a.digest].forEach(function (v) { tr.appendChild(el('td', null, v)); });
        at.appendChild(tr);
      });
      d.appendChild(at);
    }
    if (r.alerts.length) {
      d.appendChild(el('h3', null, 'Alerts' + (r.alerts_total > r.alerts.length ? ' (first ' + r.alerts.length + ' of ' + r.alerts_total + ')' : '')));
      var ul = el('ul', { 'class': 'alerts' });
      r.alerts.forEach(function (a) {
        var li = el('li', { 'class': 'level-' + a.level });
        li.appendChild(el('b', null, a.level + ' ' + a.title));
        li.appendChild(document.createTextNode(' ' + a.text + ' (' + iso(a.time) + ')'));
        ul.appendChild(li);
      });
      d.appendChild(ul);
    }
    if (r.console.bytes > 0) {
      d.appendChild(el('h3', null, r.console.complete ? 'Console' :
        'Console (the last ' + data.bounds.console_lines + ' lines)'));
      d.appendChild(el('pre', { 'class': 'console' }, r.console.text));
    }
    rsec.appendChild(d);
  });
  main.appendChild(rsec);

  var errs = window.runlogErrors || [];
  var box = el('pre', { id: 'runlog-errors' }, errs.join('\n'));
  if (!errs.length) box.hidden = true;
  main.appendChild(box);
  document.body.setAttribute('data-panels', document.querySelectorAll('.panel').length);
  document.body.setAttribute('data-errors', errs.length);
  document.body.setAttribute('data-rendered', '1');
})();
