import { describe, expect, it } from "vitest";
import { clipMessage, clipText, MESSAGE_MAX_CHARS, quoteValue } from "./message-cap.ts";

describe("message caps", () => {
  it("keeps short messages and cuts long ones, saying how much was cut", () => {
    expect(clipMessage("child 'x' failed")).toBe("child 'x' failed");
    expect(clipMessage(undefined)).toBeUndefined();
    const long = clipMessage(`withParam is not a JSON list: ${"x".repeat(200_000)}`);
    expect(long.length).toBeLessThan(MESSAGE_MAX_CHARS + 40);
    expect(long).toMatch(/^withParam is not a JSON list: x+… \(\d+ more characters\)$/);
  });

  it("never splits a surrogate pair", () => {
    const cut = clipText(`a${"😀".repeat(10)}`, 4);
    expect(cut.startsWith("a😀")).toBe(true);
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it("quotes values as JSON within the cap", () => {
    expect(quoteValue("a\"b")).toBe('"a\\"b"');
    expect(quoteValue(["x".repeat(1000)]).length).toBeLessThan(240);
    expect(quoteValue(undefined)).toBe("undefined");
  });
});
