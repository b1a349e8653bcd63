/* The map of the compliance dashboard (/department): Leaflet (static/vendor/leaflet) with OpenStreetMap tiles,
   like the map of /points. The points come from the data- attributes of the dashboard's table rows, so the map
   follows the same filters; the table is complete without this script. Markers are coloured by verdict with
   CSS classes (static/css/department.css), and each popup names the verdict in words. Offline, the tiles fail
   but the markers still show. */
(function () {
  "use strict";

  var container = document.getElementById("compliance-map");
  if (!container || typeof window.L === "undefined") {
    return;
  }

  function readPoints() {
    var points = [];
    document.querySelectorAll("[data-map-lat]").forEach(function (row) {
      var lat = parseFloat(row.dataset.mapLat);
      var lng = parseFloat(row.dataset.mapLng);
      if (isFinite(lat) && isFinite(lng)) {
        points.push({lat: lat, lng: lng, name: row.dataset.mapName, url: row.dataset.mapUrl,
                     verdict: row.dataset.verdict, verdictLabel: row.dataset.mapVerdictLabel});
      }
    });
    return points;
  }

  // Built as DOM nodes, never as an HTML string: names are text.
  function popupFor(point) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    var link = document.createElement("a");
    link.href = point.url;
    link.textContent = point.name;
    title.appendChild(link);
    box.appendChild(title);
    var verdict = document.createElement("p");
    verdict.textContent = point.verdictLabel || "";
    box.appendChild(verdict);
    return box;
  }

  // A DOM node too: Leaflet puts a string tooltip in as HTML, so a point named "<img onerror=…>" would run.
  function tooltipFor(point) {
    var text = document.createElement("span");
    text.textContent = point.name + " · " + (point.verdictLabel || "");
    return text;
  }

  function escapeText(text) {
    var span = document.createElement("span");
    span.textContent = text || "";
    return span.innerHTML;
  }

  var points = readPoints();
  if (!points.length) {
    return;
  }
  container.hidden = false;
  var map = L.map(container, {scrollWheelZoom: false});
  L.tileLayer("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", {
    subdomains: "abc",  // the site's CSP allows https://*.tile.openstreetmap.org
    maxZoom: 19,
    attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> ' +
                 escapeText(container.dataset.contributors)
  }).addTo(map);

  var verdicts = ["meets", "meets_with_conditions", "does_not_meet", "not_audited"];
  var corners = points.map(function (point) {
    var verdict = verdicts.indexOf(point.verdict) >= 0 ? point.verdict : "not_audited";
    L.circleMarker([point.lat, point.lng], {
      radius: 9,
      className: "compliance-marker compliance-marker--" + verdict
    }).bindPopup(popupFor(point))
      .bindTooltip(tooltipFor(point))
      .addTo(map);
    return [point.lat, point.lng];
  });
  if (corners.length === 1) {
    map.setView(corners[0], 15);
  } else {
    map.fitBounds(corners, {padding: [24, 24], maxZoom: 15});
  }
})();
