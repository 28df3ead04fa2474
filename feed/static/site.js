// Progressive enhancement for the meeting's page; the page is complete without it.
// 1. The next session's time in the visitor's own time zone (the server cannot know it).
// 2. Copy buttons for the calendar address and the embed code.
(function () {
  "use strict";

  function showLocalTime(time) {
    var out = time.parentElement.parentElement.querySelector(".local-time");
    if (!out || typeof Intl === "undefined") return;
    var start = new Date(time.getAttribute("datetime"));
    if (isNaN(start.getTime())) return;
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone === time.dataset.zone) {
      out.textContent = "That is in your time zone too.";
    } else {
      // Weekday and time formatted apart: joined, some locales insert words like "at".
      var day = new Intl.DateTimeFormat(undefined, { weekday: "long" }).format(start);
      var time = new Intl.DateTimeFormat(undefined, {
        hour: "2-digit", minute: "2-digit",
      }).format(start);
      out.textContent = "That is " + day + " " + time + " where you are (" + zone + ").";
    }
    out.hidden = false;
  }

  function copyFrom(button) {
    var source = document.getElementById(button.dataset.copy);
    var text = source.value !== undefined ? source.value : source.textContent;
    var label = button.textContent;
    function done(message) {
      button.textContent = message;
      setTimeout(function () { button.textContent = label; }, 2000);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { done("Copied"); },
        function () { done("Select and copy by hand"); }
      );
    } else {
      done("Select and copy by hand");
    }
  }

  document.querySelectorAll("time[data-local-time]").forEach(showLocalTime);
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copyFrom(button); });
  });
})();
