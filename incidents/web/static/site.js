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
