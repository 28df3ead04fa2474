#!/usr/bin/env node
// Test oracle: expand an .ics file with ical.js, the parser inside Thunderbird and the
// FullCalendar iCalendar plugin, so tests can compare its view of a feed with other parsers.
//
//   node tests/js/expand.mjs FILE.ics FROM TO
//   node tests/js/expand.mjs --inspect FROM TO FILE.ics...
//
// FROM/TO are UTC instants (2026-01-01T00:00:00Z). Prints
//   {"occurrences": [{start, end, uid, summary, status, recurrence_id, alarms}, ...],
//    "errors": [...]}
// with the occurrences that START in [FROM, TO), sorted by (start, uid). Timed values are
// printed as UTC instants, all-day values as YYYY-MM-DD. Floating times count as UTC (ical.js
// itself gives them a zero offset in toUnixTime), so the result does not depend on the
// machine's zone. "alarms" are the sorted UTC instants at which the VALARMs of the component
// supplying the occurrence fire (see alarmInstants). Parse failures go to "errors" (exit 0) so tests can assert there are none;
// only a bad command line exits non-zero. With --inspect, many files are read in one run (a
// JSON list, one object per file) and each object also has "components": every component in
// file order with its properties as ical.js decodes them, [name, [[property, [values]], ...]].
//
// Expansion follows FullCalendar's iCalendar plugin (6.1.x), which is also how ical.js is
// meant to be used: VTIMEZONEs of the file are registered with ICAL.TimezoneService (a TZID
// without a VTIMEZONE stays floating), each master is walked with Event.iterator() (RRULE,
// RDATE, EXDATE) and each slot resolved with getOccurrenceDetails(). Overrides are related
// by the ICAL.Event constructor itself, which calls relateException() for EVERY VEVENT with a
// RECURRENCE-ID in the calendar, whatever its UID, keyed by the RECURRENCE-ID's wall-clock
// (or UTC) string. So, as in FullCalendar, an override with a foreign UID still replaces a
// matching slot, and an override matching no slot is dropped. FullCalendar silently skips
// events with invalid dates (skipInvalidDates); here they are reported in "errors".
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const MAX_ITERATIONS = 100000;

function fail(message) {
  process.stderr.write(`expand.mjs: ${message}\n`);
  process.exit(2);
}

const pad = (n, w = 2) => String(n).padStart(w, "0");

/** Seconds since the epoch; all-day dates and floating times are read as UTC. */
function epoch(time) {
  return time.toUnixTime();
}

/** A UTC instant `YYYY-MM-DDTHH:MM:SSZ` from epoch seconds. */
const instant = (seconds) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The output form of a start/end/recurrence-id value. */
function stamp(time) {
  if (time.isDate) {
    return `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}`;
  }
  return instant(epoch(time));
}

function text(component, name) {
  const value = component.getFirstPropertyValue(name);
  return value === null || value === undefined ? "" : String(value);
}

/** When each VALARM of `component` fires for an occurrence spanning startDate..endDate, as
 * sorted UTC instants. ICAL parses TRIGGER into a Duration (relative) or a Time (VALUE=
 * DATE-TIME). A relative one is added in exact seconds to the epoch of the start (or end),
 * an all-day date counting as 00:00 UTC: Time.addDuration would keep a DATE a DATE and
 * drop the -PT15M, and would keep the wall clock for day-long triggers across DST. */
function alarmInstants(component, startDate, endDate) {
  const found = [];
  for (const valarm of component.getAllSubcomponents("valarm")) {
    const trigger = valarm.getFirstProperty("trigger");
    const value = trigger === null ? null : trigger.getFirstValue();
    if (value instanceof ICAL.Duration) {
      const related = String(trigger.getParameter("related") || "START").toUpperCase();
      const anchor = related === "END" ? endDate : startDate;
      found.push(instant(epoch(anchor) + value.toSeconds()));
    } else if (value instanceof ICAL.Time) {
      found.push(stamp(value));
    }
  }
  return found.sort();
}

function occurrence(item, startDate, endDate, recurrenceId) {
  return {
    start: stamp(startDate),
    end: stamp(endDate),
    uid: text(item.component, "uid"),
    summary: text(item.component, "summary"),
    status: text(item.component, "status").toUpperCase(),
    recurrence_id: recurrenceId === null ? "" : stamp(recurrenceId),
    // item is the override's Event for an exception, else the master: nothing is inherited.
    alarms: alarmInstants(item.component, startDate, endDate),
  };
}

function expandCalendar(vcalendar, from, to, errors) {
  const results = [];
  for (const vtimezone of vcalendar.getAllSubcomponents("vtimezone")) {
    try {
      ICAL.TimezoneService.register(new ICAL.Timezone(vtimezone));
    } catch (e) {
      errors.push(`VTIMEZONE: ${e.message}`);
    }
  }
  const events = [];
  for (const vevent of vcalendar.getAllSubcomponents("vevent")) {
    try {
      const event = new ICAL.Event(vevent);
      // Values are parsed lazily: touch them now so a bad value is reported per event.
      void event.startDate;
      void event.endDate;
      void event.recurrenceId;
      events.push(event);
    } catch (e) {
      errors.push(`VEVENT ${text(vevent, "uid")}: ${e.message}`);
    }
  }
  // No explicit relateException(): the constructor already related the overrides (see top).
  const masters = events.filter((e) => !e.isRecurrenceException());

  const inWindow = (time) => epoch(time) >= from && epoch(time) < to;
  for (const master of masters) {
    try {
      if (!master.isRecurring()) {
        if (master.startDate && inWindow(master.startDate)) {
          results.push(occurrence(master, master.startDate, master.endDate, null));
        }
        continue;
      }
      // Walk slots up to TO, or further when an override's original slot lies beyond TO
      // (it may have been moved into the window).
      let limit = to;
      for (const exception of Object.values(master.exceptions)) {
        limit = Math.max(limit, epoch(exception.recurrenceId) + 1);
      }
      const iterator = master.iterator();
      let count = 0;
      for (let slot = iterator.next(); slot && epoch(slot) < limit; slot = iterator.next()) {
        if (++count > MAX_ITERATIONS) {
          errors.push(`VEVENT ${master.uid}: stopped after ${MAX_ITERATIONS} recurrences`);
          break;
        }
        const details = master.getOccurrenceDetails(slot);
        if (inWindow(details.startDate)) {
          results.push(
            occurrence(details.item, details.startDate, details.endDate, details.recurrenceId),
          );
        }
      }
    } catch (e) {
      errors.push(`VEVENT ${master.uid}: ${e.message}`);
    }
  }
  return results;
}

/** Every component of the parsed file, in order, with its properties as ical.js decodes
 * them: [name, [[property, [values...]], ...]]. What a client reads, line by line. */
function inspectComponents(jcal) {
  const found = [];
  const walk = (component) => {
    const properties = component.getAllProperties().map((property) => [
      property.name.toUpperCase(),
      property.getValues().map((v) => (typeof v === "string" ? v : String(v))),
    ]);
    found.push([component.name.toUpperCase(), properties]);
    for (const child of component.getAllSubcomponents()) walk(child);
  };
  for (const data of jcal) walk(new ICAL.Component(data));
  return found;
}

function expandFile(file, from, to, inspect) {
  const bytes = readFileSync(file);
  const errors = [];
  let source;
  try {
    source = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    errors.push(`not valid UTF-8: ${e.message}`);
    source = new TextDecoder("utf-8").decode(bytes);
  }
  let occurrences = [];
  let components = [];
  try {
    let jcal = ICAL.parse(source);
    // Several top-level components come back as a list of them.
    if (Array.isArray(jcal[0])) {
      errors.push(`expected one VCALENDAR, found ${jcal.length} top-level components`);
    } else {
      jcal = [jcal];
    }
    if (inspect) components = inspectComponents(jcal);
    for (const data of jcal) {
      const root = new ICAL.Component(data);
      if (root.name !== "vcalendar") {
        errors.push(`top-level component is ${root.name}, not vcalendar`);
        continue;
      }
      occurrences = occurrences.concat(expandCalendar(root, from, to, errors));
    }
  } catch (e) {
    errors.push(`parse: ${e.message}`);
  }
  occurrences.sort((a, b) =>
    a.start < b.start ? -1 : a.start > b.start ? 1 : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0,
  );
  return inspect ? { occurrences, errors, components } : { occurrences, errors };
}

function window(fromArg, toArg) {
  for (const arg of [fromArg, toArg]) {
    if (!INSTANT.test(arg)) fail(`not a UTC instant like 2026-01-01T00:00:00Z: ${arg}`);
  }
  return [Date.parse(fromArg) / 1000, Date.parse(toArg) / 1000];
}

function main(argv) {
  // --inspect FROM TO FILE...: many files in one run (one Node start for a batch of cases),
  // each with its components too: [{occurrences, errors, components}, ...].
  if (argv[0] === "--inspect") {
    if (argv.length < 3) fail("usage: node expand.mjs --inspect FROM TO FILE.ics...");
    const [from, to] = window(argv[1], argv[2]);
    const results = argv.slice(3).map((file) => expandFile(file, from, to, true));
    process.stdout.write(`${JSON.stringify(results)}\n`);
    return;
  }
  if (argv.length !== 3) fail("usage: node expand.mjs FILE.ics FROM TO");
  const [file, fromArg, toArg] = argv;
  const [from, to] = window(fromArg, toArg);
  process.stdout.write(`${JSON.stringify(expandFile(file, from, to, false), null, 1)}\n`);
}

main(process.argv.slice(2));
