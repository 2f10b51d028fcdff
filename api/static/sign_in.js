// The sign-in form's only script: keep the address's #section (a link to the voice report,
// say) through sign-in. The fragment never reaches the server, so the form posts to its
// action with the fragment added, and the browser carries it over the redirect that follows
// (a redirect without a fragment of its own keeps the request's). Without this script,
// sign-in lands at the top of the page.
(function () {
  "use strict";
  var form = document.getElementById("sign-in-form");
  if (form && window.location.hash) {
    form.setAttribute("action", form.getAttribute("action").split("#")[0] + window.location.hash);
  }
})();
