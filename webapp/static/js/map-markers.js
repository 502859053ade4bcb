/* Markers of a map frame (webapp/maps.py), built from its JSON data block.
 *
 * The small maps embed their few markers in the data block; the directory map embeds none (its data
 * block has `clusters`): map-clusters.js fetches each viewport's clusters and pins and draws the pins
 * with the `marker` function this script leaves in window.mapaPins (one way of drawing a pin).
 *
 * folium renders the base document (tiles, controls, choropleth, legend) and never sees a scraped string:
 * names arrive here as JSON data in <script type="application/json" id="map-data"> and become text nodes
 * (textContent), never HTML strings or template literals. Ids are checked to be integers before they go
 * into an attribute. Row layout: [lat, lon, type index, kind, id, name]; kind 0 = exact, 1 = approximate,
 * 2 = demo placeholder (the catalog has no record there: a hollow grey ring, never an office's pin).
 */
(function () {
  'use strict';

  var holder = document.getElementById('map-data');
  var container = document.querySelector('.folium-map');
  var map = container && window[container.id];
  if (!holder || !map || !window.L) {
    return;
  }
  var data = JSON.parse(holder.textContent);
  var types = data.types;
  var APPROXIMATE = 1;
  var PLACEHOLDER = 2;

  function text(tag, value) {
    var node = document.createElement(tag);
    node.textContent = String(value);
    return node;
  }

  function popupContent(row) {
    var box = document.createElement('div');
    var id = row[4];
    if (data.link && Number.isSafeInteger(id) && id > 0) {
      var link = text('a', row[5]);
      link.setAttribute('href', '/instytucja/' + String(id));
      link.setAttribute('target', '_top');
      box.appendChild(link);
    } else {
      box.appendChild(text('strong', row[5]));
    }
    if (data.link) {
      box.appendChild(document.createElement('br'));
      box.appendChild(document.createTextNode(types[row[2]].label));
    }
    if (row[3] === APPROXIMATE) {
      box.appendChild(document.createElement('br'));
      box.appendChild(text('em', data.approximate_label));
    }
    if (row[3] === PLACEHOLDER) {
      box.appendChild(document.createElement('br'));
      box.appendChild(text('em', data.placeholder_label));
    }
    return box;
  }

  function marker(row) {
    var colour = types[row[2]].colour;
    var style;
    if (row[3] === PLACEHOLDER) {
      style = {radius: 6, color: '#777777', weight: 2, fill: true, fillOpacity: 0, className: 'placeholder-pin'};
    } else if (row[3] === APPROXIMATE) {
      style = {radius: 8, color: colour, weight: 2, dashArray: '3 3', fillColor: '#ffffff', fillOpacity: 0.9};
    } else {
      style = {radius: 7, color: '#ffffff', weight: 2, fillColor: colour, fillOpacity: 1};
    }
    var pin = L.circleMarker([row[0], row[1]], style);
    // Built when opened: thousands of popups are never all needed.
    pin.bindPopup(function () { return popupContent(row); }, {maxWidth: 260});
    return pin;
  }

  window.mapaPins = {marker: marker, data: data};
  if (data.clusters && data.clusters.url) {
    return;   // the directory map: map-clusters.js draws what each viewport holds
  }
  var rows = data.markers;
  var markers = rows.map(marker);
  if (data.uncertainty_m && rows.length === 1) {
    var colour = types[rows[0][2]].colour;
    L.circle([rows[0][0], rows[0][1]], {radius: data.uncertainty_m, color: colour, weight: 2,
      dashArray: '4 4', fill: true, fillOpacity: 0.08, interactive: false}).addTo(map);
  }
  markers.forEach(function (m) { m.addTo(map); });
  if (data.fit && rows.length) {
    map.fitBounds(L.latLngBounds(rows.map(function (r) { return [r[0], r[1]]; })), {maxZoom: 13});
  }
  // The browser tests (and anyone debugging) wait for this flag.
  document.documentElement.setAttribute('data-markers', String(rows.length));
}());
