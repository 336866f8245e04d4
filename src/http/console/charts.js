/* Runnel console: line charts drawn as SVG text, no library. */
'use strict';
var Charts = (function () {
  var W = 600, H = 150, L = 2, R = 6, T = 8, B = 22;

  /* A "nice" top for the y axis: 1, 2 or 5 times a power of ten. */
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  function clock(ms) {
    var d = new Date(ms);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0') + ':' +
      String(d.getSeconds()).padStart(2, '0');
  }

  /* opts: {t: [unix ms], series: [{name, values}], fmt: number -> text, label}.
   * Returns the chart and its legend as HTML text. The SVG stretches to its
   * box (lines keep their width); the axis labels are HTML laid over it, so
   * text is never stretched with it. */
  function line(opts) {
    var t = opts.t || [], n = t.length, fmt = opts.fmt || String;
    var max = 0;
    opts.series.forEach(function (s) { s.values.forEach(function (v) { if (v > max) max = v; }); });
    max = niceMax(max);
    var t0 = n ? t[0] : 0, t1 = n ? t[n - 1] : 1;
    if (t1 <= t0) t1 = t0 + 1;
    function x(ms) { return L + (W - L - R) * (ms - t0) / (t1 - t0); }
    function y(v) { return T + (H - T - B) * (1 - v / max); }
    var svg = ['<div class="chartbox"><svg class="chart" viewBox="0 0 ' + W + ' ' + H +
      '" preserveAspectRatio="none" role="img" aria-label="' + (opts.label || '') + '">'];
    var labels = [];
    for (var g = 0; g <= 4; g++) {
      var gv = max * g / 4, gy = y(gv);
      svg.push('<line class="grid" vector-effect="non-scaling-stroke" x1="' + L + '" x2="' + (W - R) + '" y1="' +
        gy.toFixed(1) + '" y2="' + gy.toFixed(1) + '"/>');
      labels.push('<span class="ylab" style="top:' + (gy / H * 100).toFixed(1) + '%">' + fmt(gv) + '</span>');
    }
    if (n) {
      labels.push('<span class="xlab">' + clock(t0) + '</span>');
      labels.push('<span class="xlab end">' + clock(t1) + '</span>');
    }
    opts.series.forEach(function (s, i) {
      if (!n) return;
      var pts = s.values.map(function (v, k) { return x(t[k]).toFixed(1) + ',' + y(v).toFixed(1); });
      if (i === 0) {
        svg.push('<polygon class="a0" points="' + x(t0).toFixed(1) + ',' + y(0) + ' ' + pts.join(' ') + ' ' +
          x(t1).toFixed(1) + ',' + y(0) + '"/>');
      }
      svg.push('<polyline class="l' + i + '" vector-effect="non-scaling-stroke" points="' + pts.join(' ') + '"/>');
    });
    svg.push('</svg>' + labels.join('') + '</div>');
    var legend = '<div class="legend">' + opts.series.map(function (s, i) {
      var last = s.values.length ? fmt(s.values[s.values.length - 1]) : '-';
      return '<span><i class="c' + i + '"></i>' + s.name + ': <b>' + last + '</b></span>';
    }).join('') + '</div>';
    return svg.join('') + legend;
  }

  return { line: line, niceMax: niceMax };
})();
