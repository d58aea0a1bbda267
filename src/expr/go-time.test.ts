import { describe, expect, it } from "vitest";
import { evaluateExpression } from "./evaluate.ts";
import { formatGoDuration, formatGoTime, parseGoDuration, parseGoTime } from "./go-time.ts";
import { substituteTags } from "./tags.ts";

const t = new Date("2021-03-04T05:06:07.250Z");

describe("formatGoTime", () => {
  it.each([
    ["2006", "2021"],
    ["2006-01-02", "2021-03-04"],
    ["2006-01-02T15:04:05Z07:00", "2021-03-04T05:06:07Z"],
    ["2006-01-02 15:04:05.000", "2021-03-04 05:06:07.250"],
    ["15:04:05.999", "05:06:07.25"],
    ["Jan 2, 2006 at 3:04pm (MST)", "Mar 4, 2021 at 5:06am (UTC)"],
    ["Monday, 02-Jan-06", "Thursday, 04-Mar-21"],
    ["January _2", "March  4"],
    ["-0700", "+0000"],
    ["002", "063"],
  ])("%s", (layout, want) => {
    expect(formatGoTime(t, layout)).toBe(want);
  });

  it("formats in an IANA zone", () => {
    expect(formatGoTime(t, "2006-01-02 15:04 -07:00", "Asia/Tokyo")).toBe("2021-03-04 14:06 +09:00");
  });
});

describe("parseGoTime", () => {
  it("parses what formatGoTime writes", () => {
    expect(parseGoTime("2006-01-02T15:04:05Z07:00", "2021-03-04T05:06:07Z").toISOString()).toBe("2021-03-04T05:06:07.000Z");
    expect(parseGoTime("2006-01-02 15:04:05 -0700", "2021-03-04 07:06:07 +0200").toISOString()).toBe("2021-03-04T05:06:07.000Z");
    expect(parseGoTime("2006-01-02", "2021-03-04").toISOString()).toBe("2021-03-04T00:00:00.000Z");
    expect(parseGoTime("Jan 2 2006 3:04PM", "Mar 4 2021 5:06PM").toISOString()).toBe("2021-03-04T17:06:00.000Z");
  });

  it("fails on text that does not match", () => {
    expect(() => parseGoTime("2006-01-02", "2021/03/04")).toThrow("cannot parse");
    expect(() => parseGoTime("2006-01-02", "2021-13-04")).toThrow("cannot parse");
  });
});

describe("Go durations", () => {
  it.each([
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["-1.5h", -5_400_000],
    ["300ms", 300],
    ["2s", 2000],
    ["0", 0],
  ])("parses %s", (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it("rejects bad durations", () => {
    expect(() => parseGoDuration("1x")).toThrow("invalid duration");
  });

  it.each([
    [0, "0s"],
    [250, "250ms"],
    [1500, "1.5s"],
    [61_000, "1m1s"],
    [3_723_000, "1h2m3s"],
    [-2000, "-2s"],
  ])("prints %s ms as %s", (ms, want) => {
    expect(formatGoDuration(ms)).toBe(want);
  });
});

describe("sprig date functions", () => {
  it("formats times and unix seconds", () => {
    expect(evaluateExpression("sprig.date('2006-01-02', t)", { t })).toBe("2021-03-04");
    expect(evaluateExpression("sprig.date('2006', 0)", {})).toBe("1970");
    expect(evaluateExpression("sprig.dateInZone('15:04', t, 'Asia/Tokyo')", { t })).toBe("14:06");
    expect(evaluateExpression("sprig.htmlDate(t)", { t })).toBe("2021-03-04");
    expect(evaluateExpression("sprig.unixEpoch(t)", { t })).toBe("1614834367");
    expect(evaluateExpression("sprig.date('2006-01-02', sprig.toDate('2006-01-02', '2020-02-29'))", {})).toBe("2020-02-29");
    expect(evaluateExpression("sprig.date('15:04', sprig.dateModify('1h30m', t))", { t })).toBe("06:36");
    expect(evaluateExpression("sprig.duration(95)", {})).toBe("1m35s");
    expect(evaluateExpression("sprig.date('2006', sprig.toDate('2006', 'nope'))", {})).toBe("0001");
    expect(() => evaluateExpression("sprig.mustToDate('2006', 'nope')", {})).toThrow("cannot parse");
  });

  it("uses now for a string date, as sprig does (Argo's expression-tag-template example)", () => {
    const year = String(new Date().getUTCFullYear());
    const out = substituteTags("hello {{=asInt(inputs.parameters.foo) * 10}} @ {{=sprig.date('2006', workflow.creationTimestamp)}}", {
      "inputs.parameters.foo": "3",
      "workflow.creationTimestamp": "2021-01-01T00:00:00Z",
    });
    expect(out).toBe(`hello 30 @ ${year}`);
  });

  it("prints times as Go does", () => {
    expect(evaluateExpression("string(t)", { t })).toBe("2021-03-04 05:06:07.25 +0000 UTC");
    expect(evaluateExpression("toJson(t)", { t })).toBe('"2021-03-04T05:06:07.25Z"');
    expect(evaluateExpression("type(sprig.now())", {})).toBe("time.Time");
  });
});
