// The reports page's only script: with no `tz` in the address, show the page in the
// browser's time zone by loading it once more with `?tz=<zone>` (location.replace, so
// Back does not return to the UTC view). The address then always says which zone the
// numbers are in, and can be shared. Without this script the page is in UTC.
(function () {
  "use strict";
  // Old spellings browsers still report (ICU's ids), to the names the tz database uses now for
  // the same place, so the address, the labels and CSV file names read "Asia/Kolkata".
  var RENAMED = {
    "Africa/Asmera": "Africa/Asmara",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Catamarca": "America/Argentina/Catamarca",
    "America/Coral_Harbour": "America/Atikokan",
    "America/Cordoba": "America/Argentina/Cordoba",
    "America/Godthab": "America/Nuuk",
    "America/Indianapolis": "America/Indiana/Indianapolis",
    "America/Jujuy": "America/Argentina/Jujuy",
    "America/Louisville": "America/Kentucky/Louisville",
    "America/Mendoza": "America/Argentina/Mendoza",
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Europe/Kiev": "Europe/Kyiv",
    "Pacific/Enderbury": "Pacific/Kanton",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Truk": "Pacific/Chuuk"
  };
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
  if (zone && Object.prototype.hasOwnProperty.call(RENAMED, zone)) {
    zone = RENAMED[zone];
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
