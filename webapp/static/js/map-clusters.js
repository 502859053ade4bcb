/* The directory map's clusters and pins, fetched per viewport (webapp/map_clusters.py).
 *
 * The frame holds no institution. On load and after every pan or zoom (debounced; a request still under
 * way is aborted) this asks `clusters.url` for the current bbox and zoom with the page's filters (the
 * frame's own query string), and draws what comes back: clusters as focusable count badges (an
 * accessible label says how many institutions it holds; a click or Enter zooms in) and, at street zoom or
 * where a cell holds one institution, pins drawn by map-markers.js (window.mapaPins.marker: popups are
 * text nodes only). Every value from the answer reaches the page as textContent or a number.
 * With filters, the first answer's bounds (of every match) fit the map to them once.
 * A status box (role=status) says how many institutions are in view and links to the list of the area.
 * After each draw <html> carries data-markers (pins), data-clusters, data-map-draws (a counter) and
 * data-map-state="drawn".
 */
(function () {
  'use strict';

  var pins = window.mapaPins;
  var container = document.querySelector('.folium-map');
  var map = container && window[container.id];
  if (!pins || !map || !window.L || !pins.data.clusters || !pins.data.clusters.url) {
    return;
  }
  var config = pins.data.clusters;
  var labels = config.labels || {};
  var root = document.documentElement;
  var layer = L.layerGroup().addTo(map);
  var filters = new URLSearchParams(window.location.search);
  ['kartogram', 'bbox', 'zoom'].forEach(function (name) { filters.delete(name); });
  var fitPending = Array.from(filters.keys()).length > 0;
  var controller = null;
  var timer = null;
  var draws = 0;

  function fill(template, values) {
    return String(template || '').replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  // --- the status box and the list link ---------------------------------------------------------------
  var status = document.createElement('div');
  var statusText = document.createElement('p');
  var listLink = document.createElement('a');
  status.className = 'mapa-status';
  statusText.setAttribute('role', 'status');
  listLink.textContent = labels.list || '';
  listLink.setAttribute('target', '_top');
  status.appendChild(statusText);
  status.appendChild(listLink);
  var StatusControl = L.Control.extend({
    options: {position: 'topright'},
    onAdd: function () { L.DomEvent.disableClickPropagation(status); return status; }
  });
  new StatusControl().addTo(map);

  function updateListLink() {
    var query = new URLSearchParams(filters);
    if (map.getZoom() >= 8) {
      var centre = map.getCenter();
      var radius = centre.distanceTo(map.getBounds().getNorthEast()) / 1000;
      radius = Math.max(0.5, Math.min(config.max_radius_km || 1000, radius));
      query.set('near', centre.lat.toFixed(5) + ',' + centre.lng.toFixed(5));
      query.set('radius_km', radius.toFixed(1));
    }
    var text = query.toString();
    listLink.setAttribute('href', String(config.list_url) + (text ? '?' + text : ''));
  }

  // --- drawing ------------------------------------------------------------------------------------------
  function size(count) {
    return count < 10 ? 30 : count < 100 ? 36 : count < 1000 ? 42 : 48;
  }

  function zoomInto(cluster) {
    var b = cluster.bounds;
    var box = L.latLngBounds([b[0], b[1]], [b[2], b[3]]);
    var target = Math.max(map.getBoundsZoom(box, false, L.point(40, 40)), map.getZoom() + 1);
    map.setView(box.getCenter(), Math.min(target, config.street_zoom));
  }

  function clusterMarker(cluster) {
    var count = Number(cluster.count);
    var label = fill(labels.cluster, {n: count});
    var badge = document.createElement('span');
    badge.className = 'mapa-badge';
    badge.setAttribute('aria-hidden', 'true');
    badge.textContent = String(count);
    var px = size(count);
    var icon = L.divIcon({html: badge, className: 'marker-cluster mapa-cluster', iconSize: [px, px]});
    var marker = L.marker([Number(cluster.lat), Number(cluster.lon)], {icon: icon, keyboard: true,
      title: label, riseOnHover: true});
    marker.on('add', function () {
      var element = marker.getElement();
      if (element) { element.setAttribute('aria-label', label); }
    });
    marker.on('click', function () { zoomInto(cluster); });
    // A focused badge is a button (Leaflet gives it role and tabindex): Enter or Space zooms in too.
    marker.on('keypress', function (event) {
      var key = event.originalEvent && event.originalEvent.key;
      if (key === 'Enter' || key === ' ') {
        L.DomEvent.preventDefault(event.originalEvent);
        zoomInto(cluster);
      }
    });
    return marker;
  }

  function draw(answer) {
    layer.clearLayers();
    var clusters = Array.isArray(answer.clusters) ? answer.clusters : [];
    var rows = Array.isArray(answer.markers) ? answer.markers : [];
    clusters.forEach(function (c) { layer.addLayer(clusterMarker(c)); });
    rows.forEach(function (row) { layer.addLayer(pins.marker(row)); });
    statusText.textContent = fill(labels.status, {n: Number(answer.in_view), total: Number(answer.total)})
      + (answer.note ? ' ' + String(answer.note) : '');
    updateListLink();
    root.setAttribute('data-clusters', String(clusters.length));
    root.setAttribute('data-markers', String(rows.length));
    root.setAttribute('data-map-draws', String(++draws));
    root.setAttribute('data-map-state', 'drawn');
  }

  function fitOnce(answer) {
    // The first answer with filters: show all their matches (at most street zoom), once.
    fitPending = false;
    var b = answer.bounds;
    if (!Array.isArray(b)) { return false; }
    var moved = false;
    map.once('movestart', function () { moved = true; });
    map.fitBounds(L.latLngBounds([b[0], b[1]], [b[2], b[3]]),
      {maxZoom: config.street_zoom, padding: [30, 30], animate: false});
    return moved;   // a move ends in 'moveend', which asks again for the new view
  }

  function request() {
    var bounds = map.getBounds();
    var query = new URLSearchParams(filters);
    query.set('bbox', [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
      .map(function (v) { return v.toFixed(5); }).join(','));
    query.set('zoom', String(map.getZoom()));
    return String(config.url) + '?' + query.toString();
  }

  function load() {
    if (controller) { controller.abort(); }
    controller = new AbortController();
    var signal = controller.signal;
    root.setAttribute('data-map-state', 'loading');
    statusText.textContent = labels.loading || '';
    fetch(request(), {signal: signal, credentials: 'same-origin', headers: {Accept: 'application/json'}})
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      })
      .then(function (answer) {
        if (signal.aborted) { return; }
        if (fitPending && fitOnce(answer)) { return; }
        draw(answer);
      })
      .catch(function (error) {
        if (error && error.name === 'AbortError') { return; }
        statusText.textContent = labels.error || '';
        root.setAttribute('data-map-state', 'error');
      });
  }

  map.on('moveend', function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(load, 200);
  });
  load();
}());
