/* The map of /points: Leaflet (static/vendor/leaflet) with OpenStreetMap tiles. The points come from the
   data- attributes of the list on the page, which is complete without this script: if Leaflet is missing
   or no point has coordinates, the map stays hidden. Offline, the tiles fail but the markers still show. */
(function () {
  "use strict";

  var container = document.getElementById("points-map");
  if (!container || typeof window.L === "undefined") {
    return;
  }

  function readPoints() {
    var points = [];
    document.querySelectorAll("[data-point-lat]").forEach(function (item) {
      var lat = parseFloat(item.dataset.pointLat);
      var lng = parseFloat(item.dataset.pointLng);
      if (isFinite(lat) && isFinite(lng)) {
        points.push({lat: lat, lng: lng, name: item.dataset.pointName, url: item.dataset.pointUrl,
                     address: item.dataset.pointAddress});
      }
    });
    return points;
  }

  // Built as DOM nodes, never as an HTML string: names and addresses are text.
  function popupFor(point) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    var link = document.createElement("a");
    link.href = point.url;
    link.textContent = point.name;
    title.appendChild(link);
    box.appendChild(title);
    if (point.address) {
      var address = document.createElement("p");
      address.textContent = point.address;
      box.appendChild(address);
    }
    return box;
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

  var corners = points.map(function (point) {
    L.marker([point.lat, point.lng], {title: point.name, alt: point.name, keyboard: true})
      .bindPopup(popupFor(point))
      .addTo(map);
    return [point.lat, point.lng];
  });
  if (corners.length === 1) {
    map.setView(corners[0], 15);
  } else {
    map.fitBounds(corners, {padding: [24, 24], maxZoom: 15});
  }
})();
