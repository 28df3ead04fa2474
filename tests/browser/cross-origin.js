// A page on another origin that uses the feed app the ways other sites do: the /embed widget
// in an iframe, fetch() of /sessions.json and /calendar.ics (CORS), and FullCalendar's
// iCalendar plugin. Results go to window.results for the test to read.
//   cross-origin.html?feed=http://127.0.0.1:PORT&date=YYYY-MM-DD
"use strict";

const params = new URLSearchParams(location.search);
const feed = params.get("feed");
const results = (window.results = { calendars: {} });

function frame(path, title) {
  const element = document.createElement("iframe");
  element.src = feed + path;
  element.title = title;
  element.width = "320";
  element.height = "300";
  document.getElementById("frames").append(element);
}

frame("/embed?limit=3", "Upcoming sessions");
frame("/embed?limit=3&theme=dark", "Upcoming sessions, dark");
frame("/embed?limit=3&theme=light", "Upcoming sessions, light");
frame("/", "The whole page (must be refused)");

fetch(feed + "/sessions.json?limit=10")
  .then((response) => response.json())
  .then((data) => { results.json = data; })
  .catch((error) => { results.json = { error: String(error) }; });

fetch(feed + "/calendar.ics")
  .then((response) => response.text())
  .then((text) => { results.ics = text; })
  .catch((error) => { results.ics = "error: " + error; });

// docs/clients.md R37-R38: the plugin passes wall-clock times on, so the subscription feed needs
// timeZone America/Los_Angeles; the expanded UTC feed works in the visitor's own zone.
function calendar(id, url, timeZone) {
  const cal = new FullCalendar.Calendar(document.getElementById(id), {
    initialView: "sixWeeks",
    views: { sixWeeks: { type: "dayGrid", duration: { weeks: 6 } } },
    initialDate: params.get("date"),
    timeZone: timeZone,
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    events: {
      url: url,
      format: "ics",
      failure: (error) => { results.calendars[id] = "error: " + error.message; },
    },
    eventSourceSuccess: () => { results.calendars[id] = "loaded"; },
  });
  cal.render();
}

calendar("pacific", feed + "/calendar.ics", "America/Los_Angeles");
calendar("local", feed + "/calendar.ics?expand=utc", "local");
