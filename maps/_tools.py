"""Interactive tools shared by the planner maps: search, tables, popup cycling, downloads.

Everything runs in the page from the layers already drawn (registered in
``window.dianmian_layers``, see :mod:`maps._base`), so the tools add no data to the page and
need no network:

* a search box (name or id of any point feature: service points, employers, the market,
  volunteers on routes.html) that zooms to the feature and opens its popup;
* ``table.dm-sortable``: a click on a heading sorts by it (numbers by their ``data-v``), a
  click on a row with ``data-id`` zooms to that feature; ``input.dm-filter`` hides the rows
  of its table that do not contain the text typed;
* popup cycling: when point features overlap on screen (within :data:`OVERLAP_PX`), the popup
  gets "‹ k/n ›" buttons that step through them;
* downloads: one GeoJSON and one CSV link per layer, built from the drawn layer on click;
* "All on / All off" buttons in the layer list.
"""

from __future__ import annotations

import folium
from jinja2.utils import htmlsafe_json_dumps

from maps._base import HtmlControl, esc, figure

OVERLAP_PX = 14
"""Point features closer than this on screen (pixels) are cycled through in one popup."""

_CSS = """
<style>
.dm-search input, .dm-filter { width: 210px; font-size: 13px; padding: 3px 5px; }
.dm-search ul { list-style: none; margin: 2px 0 0; padding: 0; max-height: 40vh;
  overflow-y: auto; }
.dm-search li { padding: 3px 4px; cursor: pointer; border-bottom: 1px solid #eee; }
.dm-search li:hover, .dm-search li.on { background: #eef3ff; }
.dm-search li small { color: #666; }
.dm-sortable th { cursor: pointer; user-select: none; white-space: nowrap; }
.dm-sortable th.asc::after { content: " ▲"; } .dm-sortable th.desc::after { content: " ▼"; }
.dm-sortable tbody tr[data-id] { cursor: pointer; }
.dm-sortable tbody tr[data-id]:hover { background: #eef3ff; }
.dm-table { max-width: 560px; } .dm-table .wrap { max-height: 34vh; overflow: auto; }
.dm-table table { border-collapse: collapse; font-size: 12px; }
.dm-table td, .dm-table th { padding: 2px 5px; border-bottom: 1px solid #e4e4e4; text-align: left; }
.dm-cycle { margin-top: 6px; text-align: center; font-size: 12px; color: #444; }
.dm-cycle button { font-size: 13px; padding: 0 8px; margin: 0 4px; cursor: pointer; }
.dm-dl a { display: inline-block; margin: 0 4px 2px 0; }
.dm-allbtn { margin: 4px 4px 2px 0; font-size: 12px; }
</style>
"""

_JS = """
<script>
document.addEventListener('DOMContentLoaded', function () {
  var map = window.dianmian_map, layers = window.dianmian_layers || {};
  var OVERLAP = %(overlap)s, NAMES = %(names)s;
  function leaves(group, key, out) {
    group.eachLayer(function (l) {
      if (l.feature && l.getLatLng) out.push({key: key, group: group, layer: l});
      else if (l.eachLayer) leaves(l, key, out);
    });
    return out;
  }
  var index = [];
  Object.keys(layers).forEach(function (key) {
    if (layers[key].eachLayer) leaves(layers[key], key, index);
  });
  // A service point sits in one layer per industry it serves: one entry per point.
  function uniq(list, visible) {
    var seen = {};
    return list.filter(function (x) {
      if (visible && !map.hasLayer(x.layer)) return false;
      var k = x.key.split(':')[0] + '|' + x.layer.feature.properties.id;
      if (seen[k]) return false;
      seen[k] = true;
      return true;
    });
  }
  function rootOf(key) { return layers[key]; }
  function onMap(entry) {
    var root = rootOf(entry.key);
    if (!map.hasLayer(root)) map.addLayer(root);
  }
  function openEntry(entry) {
    onMap(entry);
    var root = rootOf(entry.key), l = entry.layer;
    var open = function () { l.fire('click', {latlng: l.getLatLng()}, true); };
    if (root.zoomToShowLayer) { root.zoomToShowLayer(l, open); return; }
    map.setView(l.getLatLng(), Math.max(map.getZoom(), 15), {animate: false});
    open();
  }
  window.dianmian_focus = function (id, prefix) {
    var hit = index.find(function (e) {
      return String(e.layer.feature.properties.id) === id &&
        (!prefix || e.key.indexOf(prefix) === 0);
    });
    if (hit) openEntry(hit);
    return !!hit;
  };
  // --- search ----------------------------------------------------------------------------
  var box = document.querySelector('.dm-search input');
  if (box) {
    var list = document.querySelector('.dm-search ul');
    var text = function (s) { var d = document.createElement('div'); d.innerHTML = s || '';
      return d.textContent; };
    var entries = uniq(index, false).map(function (e) {
      var p = e.layer.feature.properties;
      return {entry: e, label: text(p.name || p.id), id: text(p.id), kind: NAMES[e.key] || e.key};
    });
    (window.dianmian_search_extra || []).forEach(function (x) { entries.push(x); });
    box.addEventListener('input', function () {
      var q = box.value.trim().toLowerCase();
      list.innerHTML = '';
      if (!q) return;
      entries.filter(function (x) {
        return (x.label + ' ' + x.id).toLowerCase().indexOf(q) >= 0;
      }).slice(0, 12).forEach(function (x) {
        var li = document.createElement('li');
        li.textContent = x.label + (x.id && x.id !== x.label ? ' (' + x.id + ')' : '') + ' ';
        var k = document.createElement('small'); k.textContent = x.kind; li.appendChild(k);
        li.addEventListener('click', function () {
          list.innerHTML = '';
          if (x.select) x.select(); else openEntry(x.entry);
        });
        list.appendChild(li);
      });
    });
  }
  // --- sortable, filterable, clickable tables ---------------------------------------------
  document.querySelectorAll('table.dm-sortable').forEach(function (table) {
    var body = table.tBodies[0];
    table.querySelectorAll('thead th').forEach(function (th, col) {
      th.addEventListener('click', function () {
        var asc = !th.classList.contains('asc');
        table.querySelectorAll('thead th').forEach(function (o) {
          o.classList.remove('asc', 'desc');
        });
        th.classList.add(asc ? 'asc' : 'desc');
        var rows = Array.from(body.rows), key = function (r) {
          var c = r.cells[col]; if (!c) return '';
          var v = c.getAttribute('data-v'); return v !== null ? Number(v) : c.textContent.trim();
        };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b), d = (typeof x === 'number' && typeof y === 'number')
            ? x - y : String(x).localeCompare(String(y));
          return asc ? d : -d;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
    body.addEventListener('click', function (ev) {
      var tr = ev.target.closest('tr[data-id]');
      if (tr) window.dianmian_focus(tr.getAttribute('data-id'), table.getAttribute('data-key'));
    });
  });
  document.querySelectorAll('input.dm-filter').forEach(function (input) {
    var table = document.getElementById(input.getAttribute('data-table'));
    input.addEventListener('input', function () {
      var q = input.value.trim().toLowerCase();
      Array.from(table.tBodies[0].rows).forEach(function (r) {
        r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
      });
    });
  });
  // --- popups cycle through overlapping point features ------------------------------------
  var cycle = {list: [], i: 0};
  map.on('popupopen', function (e) {
    var src = e.popup._source;
    if (!src || !src.getLatLng) return;
    var at = map.latLngToContainerPoint(src.getLatLng());
    var k = cycle.list.indexOf(src);
    if (k < 0) {
      var near = index.filter(function (x) {
        return x.layer === src || (map.hasLayer(x.layer) &&
          map.latLngToContainerPoint(x.layer.getLatLng()).distanceTo(at) <= OVERLAP);
      });
      var mine = near.filter(function (x) { return x.layer === src; });
      cycle.list = uniq(mine.concat(near), false).map(function (x) { return x.layer; });
      k = cycle.list.indexOf(src);
    }
    cycle.i = k;
    if (cycle.list.length < 2 || k < 0) return;
    var content = e.popup.getElement().querySelector('.leaflet-popup-content');
    var nav = document.createElement('div');
    nav.className = 'dm-cycle';
    nav.innerHTML = '<button class="prev" title="previous 上一个">‹</button>' +
      (k + 1) + ' / ' + cycle.list.length + ' here 此处' +
      '<button class="next" title="next 下一个">›</button>';
    var go = function (step) {
      var n = cycle.list.length, next = cycle.list[(cycle.i + step + n) %% n];
      map.closePopup();
      next.fire('click', {latlng: next.getLatLng()}, true);
    };
    nav.querySelector('.prev').addEventListener('click', function () { go(-1); });
    nav.querySelector('.next').addEventListener('click', function () { go(1); });
    L.DomEvent.disableClickPropagation(nav);
    content.appendChild(nav);
    // Not popup.update(): it would re-render the content (and drop the buttons).
    e.popup._updateLayout();
    e.popup._updatePosition();
  });
  // --- downloads ---------------------------------------------------------------------------
  function csvCell(v) {
    if (v === null || v === undefined) return '';
    var d = document.createElement('div'); d.innerHTML = String(v);
    var s = d.textContent;
    return /[",\\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function download(key, kind) {
    var gj = layers[key].toGeoJSON(), feats = gj.features || [gj], text, type;
    if (kind === 'geojson') { text = JSON.stringify(gj); type = 'application/geo+json'; }
    else {
      var cols = [];
      feats.forEach(function (f) { Object.keys(f.properties || {}).forEach(function (c) {
        if (cols.indexOf(c) < 0 && ['html', 'anchor', 'fill', 'radius', 'opacity', 'colour']
            .indexOf(c) < 0) cols.push(c); }); });
      var rows = [cols.concat(['lon', 'lat']).join(',')];
      feats.forEach(function (f) {
        var g = f.geometry || {}, xy = g.type === 'Point' ? g.coordinates : ['', ''];
        rows.push(cols.map(function (c) { return csvCell((f.properties || {})[c]); })
          .concat(xy).join(','));
      });
      text = '\\ufeff' + rows.join('\\n'); type = 'text/csv';
    }
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], {type: type}));
    a.download = key.replace(/[^A-Za-z0-9_-]+/g, '_') + '.' + kind;
    document.body.appendChild(a); a.click(); a.remove();
  }
  document.querySelectorAll('.dm-dl a[data-key]').forEach(function (a) {
    if (!layers[a.getAttribute('data-key')]) { a.parentNode.style.display = 'none'; return; }
    a.addEventListener('click', function (ev) {
      ev.preventDefault(); download(a.getAttribute('data-key'), a.getAttribute('data-kind'));
    });
  });
  // --- all on / all off in the layer list --------------------------------------------------
  var overlays = document.querySelector('.leaflet-control-layers-overlays');
  if (overlays) {
    var bar = document.createElement('div');
    [['All on 全开', true], ['All off 全关', false]].forEach(function (b) {
      var btn = document.createElement('button');
      btn.className = 'dm-allbtn'; btn.type = 'button'; btn.textContent = b[0];
      btn.addEventListener('click', function () {
        overlays.querySelectorAll('input[type=checkbox]').forEach(function (i) {
          if (i.checked !== b[1]) i.click();
        });
      });
      bar.appendChild(btn);
    });
    overlays.parentNode.insertBefore(bar, overlays);
  }
});
</script>
"""


def add_tools(
    m: folium.Map, layer_names: dict[str, str], *, search: bool = True, downloads: bool = True
) -> None:
    """Add the tools' CSS and script, the search box (top right) and the download panel.

    `layer_names` maps registered layer keys to the names shown for them (search results,
    download links); with `downloads`, these layers get download links.
    """
    root = figure(m)
    root.header.add_child(folium.Element(_CSS), name="dm_tools_css")
    names = htmlsafe_json_dumps(layer_names)
    script = _JS % {"overlap": OVERLAP_PX, "names": names}
    root.html.add_child(folium.Element(script), name="dm_tools_js")
    if search:
        HtmlControl(
            '<input type="search" placeholder="Search 搜索: name or id 名称或编号" '
            'aria-label="Search"><ul></ul>',
            position="topright",
            css_class="dm-search",
        ).add_to(m)
    if not downloads:
        return
    links = "".join(
        f"<div>{esc(name)}: "
        f'<a href="#" data-key="{esc(key)}" data-kind="geojson">GeoJSON</a>'
        f'<a href="#" data-key="{esc(key)}" data-kind="csv">CSV</a></div>'
        for key, name in layer_names.items()
    )
    HtmlControl(
        f"<details><summary><b>Download 下载</b></summary>{links}</details>",
        position="bottomleft",
        css_class="dm-dl",
    ).add_to(m)


def table_html(
    table_id: str,
    headings: list[str],
    rows: list[tuple[str, list[tuple[str, str | None]]]],
    *,
    layer_key: str = "",
) -> str:
    """A collapsible, filterable, sortable table.

    `rows` are ``(id, cells)``; each cell ``(text, sort value or None)``; texts must be
    escaped already. A click on a row opens the feature with that id in the layers whose
    key starts with `layer_key`.
    """
    head = "".join(f"<th>{esc(h)}</th>" for h in headings)
    body = "".join(
        f'<tr data-id="{esc(rid)}">'
        + "".join(
            f"<td data-v='{esc(v)}'>{t}</td>" if v is not None else f"<td>{t}</td>"
            for t, v in cells
        )
        + "</tr>"
        for rid, cells in rows
    )
    return (
        f"<details><summary><b>Table 表格 ({len(rows)})</b></summary>"
        f'<input class="dm-filter" data-table="{esc(table_id)}" type="search" '
        'placeholder="Filter 筛选"><div class="wrap">'
        f'<table id="{esc(table_id)}" class="dm-sortable" data-key="{esc(layer_key)}">'
        f"<thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></div></details>"
    )
