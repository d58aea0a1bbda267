import { describe, expect, it } from "vitest";
import { parseExpression, substituteTags } from "./evaluation.ts";
import { paramRef } from "./refs.ts";
import {
  type RenderContext,
  and,
  argoEnumerate,
  argoLen,
  argoRange,
  argoString,
  ifExpression,
  not,
  or,
  quoteString,
  renderCondition,
  renderValue,
  toExpr,
} from "./tree.ts";

const ctx: RenderContext = { template: "t" };
const owner = { name: "t" };
const n = paramRef<number>({ type: "input", owner, io: "parameters", name: "n" }, "integer");
const s = paramRef<string>({ type: "input", owner, io: "parameters", name: "my-word" }, "string");
const flag = paramRef<boolean>({ type: "input", owner, io: "parameters", name: "flag" }, "boolean");
const list = paramRef<number[]>({ type: "input", owner, io: "parameters", name: "list" }, "json");

describe("expression trees", () => {
  it("renders a bare reference as a simple tag and expressions as expr-lang tags", () => {
    expect(renderValue(s, ctx)).toBe("{{inputs.parameters.my-word}}");
    expect(renderValue(n.gt(3), ctx)).toBe("{{=(asInt(inputs.parameters.n) > 3)}}");
    expect(renderCondition(and(flag, or(s.eq("a"), not(n.le(2)))), ctx)).toBe(
      '{{=((inputs.parameters.flag == "true") && ((inputs.parameters["my-word"] == "a") || (!(asInt(inputs.parameters.n) <= 2))))}}',
    );
  });

  it("quotes string literals so they never break out of a string or a tag", () => {
    const nasty = `it's "x" }} {{=evil}} \\ \n`;
    const q = quoteString(nasty);
    expect(q).not.toContain("}}");
    expect(q).not.toContain("{{");
    const ast = parseExpression(q) as { kind: string; value: string };
    expect(ast).toMatchObject({ kind: "string", value: nasty });
    expect(renderCondition(s.eq(nasty), ctx)).not.toMatch(/\}\}.*\}\}/);
  });

  it("renders helpers in the spirit of dflow's argo_len, argo_range and if_expression", () => {
    expect(renderValue(argoLen(list), ctx)).toBe("{{=len(fromJSON(inputs.parameters.list))}}");
    expect(renderValue(argoRange(n), ctx)).toBe("{{=toJson(sprig.untilStep(0, int(asInt(inputs.parameters.n)), 1))}}");
    expect(renderValue(ifExpression(flag, "yes", s), ctx)).toBe('{{=((inputs.parameters.flag == "true") ? "yes" : inputs.parameters["my-word"])}}');
    expect(renderValue(argoString`echo ${s} ${n}`, ctx)).toBe("echo {{inputs.parameters.my-word}} {{inputs.parameters.n}}");
    expect(renderValue(toExpr([1, "a"]), ctx)).toBe('[1,"a"]');
  });

  it("renders argoEnumerate so that the engine evaluates it", () => {
    const tag = renderValue(argoEnumerate(list), ctx);
    expect(substituteTags(tag, { "inputs.parameters.list": "[5,6]" })).toBe('[{"item":5,"order":0},{"item":6,"order":1}]');
    const vars = { "inputs.parameters.list": "[5,6]", "inputs.parameters.n": "3", "inputs.parameters.flag": "false", "inputs.parameters.my-word": 'it\'s "w"' };
    expect(substituteTags(renderValue(argoRange(n), ctx), vars)).toBe("[0,1,2]");
    expect(substituteTags(renderValue(argoLen(list), ctx), vars)).toBe("2");
    expect(substituteTags(renderValue(ifExpression(flag, "yes", s), ctx), vars)).toBe('it\'s "w"');
    expect(substituteTags(renderCondition(and(n.gt(2), s.eq('it\'s "w"')), ctx), vars)).toBe("true");
  });

  it("renders expressions that the engine's parser accepts", () => {
    for (const e of [n.gt(3), and(flag, s.ne("b")), argoLen(list), ifExpression(flag, n, 0)]) {
      const tag = renderValue(e, ctx);
      const inner = /^\{\{=(.*)\}\}$/.exec(tag)?.[1] as string;
      expect(() => parseExpression(inner)).not.toThrow();
    }
  });
});
