// The reports page's only script: with no `tz` in the address, show the page in the
// browser's time zone by loading it once more with `?tz=<zone>` (location.replace, so
// Back does not return to the UTC view). The address then always says which zone the
// numbers are in, and can be shared. Without this script the page is in UTC.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  if (params.has("tz")) {
    return;
  }
  var select = document.getElementById("tz");
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!select || !zone || zone === select.value) {
    return;
  }
  var known = Array.prototype.some.call(select.options, function (option) {
    return option.value === zone;
  });
  if (!known) {
    return;
  }
  var query = params.toString();
  // (the zone's "/" left as it is, as in the page's own links: ?tz=Europe/Berlin)
  query += (query ? "&" : "") + "tz=" + encodeURIComponent(zone).replace(/%2F/g, "/");
  window.location.replace(window.location.pathname + "?" + query + window.location.hash);
})();
