// Progressive enhancement: offer "use my location" only where the browser can do it.
// The search works without this script (type a place in "Gdzie?").
(function () {
  "use strict";
  var button = document.getElementById("geo-button");
  if (!button || !("geolocation" in navigator)) { return; }
  var form = button.form;
  var status = document.getElementById("geo-status");
  // The texts come from the page (data-* on the status line), in the page's language.
  var say = function (key, polish) { status.textContent = status.getAttribute("data-" + key) || polish; };
  button.hidden = false;
  button.addEventListener("click", function () {
    say("locating", "Ustalamy Twoje położenie…");
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("geo-lat").value = pos.coords.latitude.toFixed(5);
      document.getElementById("geo-lon").value = pos.coords.longitude.toFixed(5);
      document.getElementById("gdzie").value = "";
      say("searching", "Szukamy w pobliżu…");
      form.submit();
    }, function () {
      button.disabled = false;
      say("failed", "Nie udało się ustalić położenia. Wpisz miejscowość lub kod pocztowy.");
    }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 });
  });
}());
