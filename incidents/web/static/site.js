// Progressive enhancement only: every page works without this file.
// The error summary, as the GOV.UK Design System does it: it takes focus when the page opens
// (so a screen reader reads it first), and each of its links moves focus to the field at fault.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a");
    if (!link || link.hash.length < 2) { return; }
    var field = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!field) { return; }
    event.preventDefault();
    var label = field.closest("fieldset") ? field.closest("fieldset").querySelector("legend")
      : document.querySelector("label[for='" + field.id + "']");
    (label || field).scrollIntoView();
    field.focus({ preventScroll: true });
  });
}());

// The workshop's projector page: the rating count follows the ratings while rating is open.
(function () {
  "use strict";
  var count = document.querySelector("[data-count-url]");
  if (!count || !window.fetch) { return; }
  var url = count.getAttribute("data-count-url");
  var timer = window.setInterval(function () {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        count.textContent = String(data.rating_count);
        if (data.status !== "open") { window.clearInterval(timer); }
      })
      .catch(function () { /* the next tick tries again */ });
  }, 3000);
}());
