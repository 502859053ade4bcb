// "Szybkie wyjście" (quick exit) on pages about violence and crisis: leave at once for a neutral site.
// location.replace puts the neutral site in place of this page, so "back" does not return here and the
// history gains no entry. Without JavaScript the button is a plain link to the same site.
// Esc does the same, except while typing in a form field (there Esc clears the field).
(function () {
  "use strict";
  var link = document.getElementById("quick-exit");
  if (!link) { return; }
  function leave(event) {
    if (event) { event.preventDefault(); }
    document.body.hidden = true;          // nothing of the page stays on screen while the next one loads
    window.location.replace(link.href);
  }
  link.addEventListener("click", leave);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) { return; }
    var target = event.target;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) { return; }
    leave(event);
  });
}());
