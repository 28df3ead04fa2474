// Progressive enhancement for the meeting's page, a session's page and the widget; each is
// complete without it (times then show in the meeting's zone with their UTC offset).
// 1. Every time in the visitor's own zone, in English, with the date and the zone's name, and a
//    switch to the meeting's zone (remembered).
// 2. The clock rule, as the server applies it: a session is live from its start to its end (Join
//    shows from 15 minutes before), then the next one is next. The page follows it while open,
//    and a static export (body[data-static]), built earlier, catches up from sessions.json.
// 3. The subscribe button for the visitor's platform first.
// 4. Copy buttons; the widget's ?limit= and ?theme= on a static export; join.html's redirect.
(function () {
  "use strict";

  var body = document.body;
  var isStatic = body.hasAttribute("data-static");
  var SOON = 15 * 60 * 1000; // feed.occurrences.SOON
  var LOCALE = "en-GB"; // English, day before month, 24-hour clock: as the server writes times
  var KEY = "feed.zone"; // "meeting" when the visitor chose the meeting's zone
  var hasIntl = typeof Intl !== "undefined" && Intl.DateTimeFormat;
  var visitorZone = hasIntl ? Intl.DateTimeFormat().resolvedOptions().timeZone : null;
  var useMeetingZone = false;
  try {
    useMeetingZone = localStorage.getItem(KEY) === "meeting";
  } catch (error) { /* storage refused: the visitor's zone */ }

  // -- formatting --------------------------------------------------------------------------------

  function parts(date, zone, options) {
    var found = {};
    new Intl.DateTimeFormat(LOCALE, Object.assign({ timeZone: zone }, options))
      .formatToParts(date)
      .forEach(function (part) { found[part.type] = part.value; });
    return found;
  }

  function longDay(date, zone) {
    var p = parts(date, zone, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    return p.weekday + " " + p.day + " " + p.month + " " + p.year;
  }

  function shortDay(date, zone) {
    var p = parts(date, zone, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
    var thisYear = parts(new Date(Date.now()), zone, { year: "numeric" }).year;
    return p.weekday + " " + p.day + " " + p.month + (p.year === thisYear ? "" : " " + p.year);
  }

  function clock(date, zone) {
    var p = parts(date, zone, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    return p.hour + ":" + p.minute;
  }

  function zoneName(date, zone) {
    return parts(date, zone, { timeZoneName: "long" }).timeZoneName || zone;
  }

  function span(start, end, zone) {
    var text = clock(start, zone);
    if (end) {
      text += "–" + clock(end, zone);
      if (longDay(end, zone) !== longDay(start, zone) && end - start < 864e5) {
        text += " (next day)";
      }
    }
    return text + " " + zoneName(start, zone);
  }

  // Rewrites one <time data-show> in the chosen zone; the server's text stays in its title.
  function showTime(time) {
    var start = new Date(time.getAttribute("datetime"));
    if (isNaN(start.getTime())) return;
    var end = time.dataset.end ? new Date(time.dataset.end) : null;
    var zone = useMeetingZone ? time.dataset.zone : visitorZone;
    var show = time.dataset.show;
    if (!time.dataset.meeting) time.dataset.meeting = time.textContent;
    var text;
    if (show === "day") text = longDay(start, zone);
    else if (show === "time") text = span(start, end, zone);
    else if (show === "short") text = shortDay(start, zone) + " " + span(start, end, zone);
    else text = longDay(start, zone) + ", " + span(start, end, zone);
    time.textContent = text;
    time.title = time.dataset.meeting;
  }

  function showTimes() {
    if (!hasIntl || !visitorZone) return;
    document.querySelectorAll("time[data-show]").forEach(showTime);
    var block = document.querySelector(".next[data-start]");
    var line = block && block.querySelector(".zone-line");
    if (!line) return;
    var first = block.querySelector("time[data-show]");
    var meeting = first.dataset.zone;
    var start = new Date(first.getAttribute("datetime"));
    var meetingName = zoneName(start, meeting);
    var button = line.querySelector(".zone-switch");
    if (meeting === visitorZone) {
      line.querySelector(".zone-text").textContent =
        "Times are in " + meetingName + ", the meeting’s time zone and yours.";
      button.hidden = true;
    } else if (useMeetingZone) {
      line.querySelector(".zone-text").textContent =
        "Times are in the meeting’s time zone, " + meetingName + ".";
      button.textContent = "Show my time (" + zoneName(start, visitorZone) + ")";
    } else {
      line.querySelector(".zone-text").textContent =
        "Times are in your time zone, " + zoneName(start, visitorZone) + ".";
      button.textContent = "Show the meeting’s time (" + meetingName + ")";
    }
    line.hidden = false;
  }

  function switchZone() {
    useMeetingZone = !useMeetingZone;
    try {
      localStorage.setItem(KEY, useMeetingZone ? "meeting" : "visitor");
    } catch (error) { /* not remembered */ }
    showTimes();
  }

  // -- the clock rule ---------------------------------------------------------------------------

  function ended(item, now) {
    var end = Date.parse(item.dataset.ends);
    return !isNaN(end) && end <= now;
  }

  // Drops the sessions of a list that have ended; shows at most `limit` of the rest, with Join
  // on a session that is live.
  function prune(list, limit) {
    if (!list) return;
    var now = Date.now();
    var left = 0;
    Array.prototype.slice.call(list.children).forEach(function (item) {
      if (ended(item, now)) {
        item.remove();
        return;
      }
      left += 1;
      item.hidden = limit !== undefined && left > limit;
      var join = item.querySelector(".join-now");
      if (join) join.hidden = !(Date.parse(item.dataset.start) <= now);
    });
    var empty = list.parentElement.querySelector(".empty");
    if (empty && left === 0) empty.hidden = false;
  }

  function sessionItem(key) {
    return document.getElementById("s-" + key.replace("/", "-"));
  }

  function endOf(s) {
    var item = sessionItem(s.key);
    // All-day sessions are one-off events, always on the page with their end computed.
    return item ? Date.parse(item.dataset.ends) : Date.parse(s.end.utc);
  }

  // The first session that is not cancelled and has not ended (a live one counts).
  function liveOrNext(sessions, needJoin) {
    var now = Date.now();
    for (var i = 0; i < sessions.length; i++) {
      var s = sessions[i];
      if (s.status === "cancelled" || (needJoin && !s.join)) continue;
      if (endOf(s) > now) return s;
    }
    return null;
  }

  function stateOf(block, now) {
    var start = Date.parse(block.dataset.start);
    var end = Date.parse(block.dataset.end);
    if (isNaN(start)) return block.dataset.state;
    if (end <= now) return "over";
    if (start <= now) return "live";
    return start - SOON <= now ? "soon" : "next";
  }

  var LABELS = { live: "Live now", soon: "Starting soon", next: "Next session" };

  // Shows the state of the live or next session block; returns false once it has ended.
  function showState(block) {
    if (block.querySelector(".next-label").textContent === "Cancelled") return true;
    var state = stateOf(block, Date.now());
    var single = block.hasAttribute("data-single");
    if (state === "over" && !single) return false;
    block.dataset.state = state;
    var label = block.querySelector(".next-label");
    if (single) {
      label.textContent = state === "over" ? "This session is over" :
        state === "live" ? "Live now" : "Scheduled";
    } else {
      label.textContent = LABELS[state];
    }
    var now = block.querySelector(".join-now");
    var later = block.querySelector(".join-later");
    if (now) now.hidden = single ? state === "over" : !(state === "live" || state === "soon");
    if (later) later.hidden = state === "live" || state === "soon";
    return true;
  }

  function showNext(block, s) {
    if (!s) {
      block.hidden = true;
      return;
    }
    if (s.key !== block.dataset.key) {
      var time = block.querySelector(".next-when time");
      time.removeAttribute("data-meeting");
      time.setAttribute("datetime", s.start.utc || s.start.date);
      time.dataset.zone = s.timezone;
      if (s.start.utc) {
        time.dataset.end = s.end.utc;
        block.dataset.start = s.start.utc;
        block.dataset.end = s.end.utc;
      } else {
        time.removeAttribute("data-show");
        time.textContent = s.start.date;
        block.removeAttribute("data-start");
      }
      var topic = block.querySelector(".next-topic a");
      topic.textContent = s.topic || "Topic to be announced";
      var item = sessionItem(s.key);
      var link = item && item.querySelector(".topic a");
      if (link) topic.href = link.href;
      ["join-now", "join-later"].forEach(function (name) {
        var line = block.querySelector("." + name);
        if (!line) return;
        line.querySelectorAll("a").forEach(function (a) {
          if (s.join) a.href = s.join;
          if (a.classList.contains("address")) a.textContent = s.join || "";
        });
        if (!s.join) line.hidden = true;
      });
      block.dataset.key = s.key;
    }
    showState(block);
  }

  function sessions(then) {
    fetch(body.dataset.sessions)
      .then(function (response) { return response.json(); })
      .then(function (data) { then(data.sessions); })
      .catch(function () { /* the page as it is stays */ });
  }

  var timer = null;

  // The next instant anything shown changes: a start, an end, or 15 minutes before a start.
  function nextChange() {
    var now = Date.now();
    var soonest = Infinity;
    document.querySelectorAll("[data-start][data-end], li[data-ends]").forEach(function (el) {
      var start = Date.parse(el.dataset.start);
      var end = Date.parse(el.dataset.end || el.dataset.ends);
      [start - SOON, start, end].forEach(function (t) {
        if (t > now && t < soonest) soonest = t;
      });
    });
    return soonest;
  }

  function follow() {
    var block = document.querySelector(".next[data-key]");
    var lists = document.querySelectorAll("ol.compact, #upcoming-sessions");
    lists.forEach(function (list) {
      prune(list, list.dataset.limit ? widgetLimit(list) : undefined);
    });
    if (block && !showState(block)) {
      sessions(function (found) {
        showNext(block, liveOrNext(found, false));
        showTimes();
        schedule();
      });
    }
    showTimes();
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    var at = nextChange();
    if (at === Infinity) return;
    // setTimeout holds at most about 24 days; a longer wait is taken in steps.
    timer = setTimeout(follow, Math.min(at - Date.now() + 50, 2147483000));
  }

  function widgetLimit(list) {
    var asked = new URLSearchParams(location.search).get("limit");
    return /^\d+$/.test(asked || "") && +asked >= 1 && +asked <= 20 ? +asked : +list.dataset.limit;
  }

  // -- subscribe: the visitor's platform first -----------------------------------------------

  function platform() {
    var agent = navigator.userAgent || "";
    if (/Android/i.test(agent)) return "android";
    if (/iPhone|iPad|iPod|Macintosh|Mac OS X/i.test(agent)) return "apple";
    if (/Windows/i.test(agent)) return "windows";
    return null;
  }

  function suggestButton() {
    var list = document.getElementById("subscribe-buttons");
    var found = platform();
    var item = list && found && list.querySelector("li[data-platform='" + found + "']");
    if (!item) return;
    list.insertBefore(item, list.firstElementChild);
    item.classList.add("suggested");
    var link = item.querySelector("a");
    link.classList.add("suggested");
    var hint = document.createElement("span");
    hint.className = "hint";
    hint.textContent = " (suggested for this device)";
    link.appendChild(hint);
  }

  // -- copy buttons ---------------------------------------------------------------------------

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

  // -- start ----------------------------------------------------------------------------------

  if (isStatic && body.classList.contains("embed")) {
    var theme = new URLSearchParams(location.search).get("theme");
    if (theme === "light" || theme === "dark") {
      document.documentElement.className = "theme-" + theme;
    }
  }
  var going = document.querySelector("[data-join-next]");
  if (going && isStatic) {
    sessions(function (found) {
      var next = liveOrNext(found, true);
      if (next) location.replace(next.join);
    });
  }
  var switcher = document.querySelector(".zone-switch");
  if (switcher) switcher.addEventListener("click", switchZone);
  suggestButton();
  follow();
  // Closed sections print as their summaries only: open them for paper.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (item) { item.open = true; });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copyFrom(button); });
  });
})();
