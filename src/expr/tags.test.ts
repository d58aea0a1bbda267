import { describe, expect, it } from "vitest";
import { ExpressionError } from "../errors.ts";
import { expandScope, renderTagValue, substituteTags, substituteTagsDeep } from "./tags.ts";

const vars = {
  "inputs.parameters.message": "hello world",
  "inputs.parameters.should-print": "true",
  "inputs.parameters.n": "41",
  "inputs.parameters": '[{"name":"message","value":"hello world"}]',
  "steps.flip-coin.outputs.result": "heads",
  "tasks.gen.outputs.result": "[1,2,3]",
  "workflow.name": "wf-abc",
  "workflow.parameters.json": '[{"name":"should-print","value":"true"}]',
  item: "x",
  "item.name": "n1",
};

describe("substituteTags: simple tags", () => {
  it.each([
    ["{{inputs.parameters.message}}", "hello world"],
    ["{{ inputs.parameters.message }}", "hello world"],
    ["echo {{inputs.parameters.message}}!", "echo hello world!"],
    ["{{workflow.name}}-{{steps.flip-coin.outputs.result}}", "wf-abc-heads"],
    ["runs/{{workflow.name}}/out.txt.tgz", "runs/wf-abc/out.txt.tgz"],
    ["no tags at all", "no tags at all"],
    ["{{item}}", "x"],
    ["{{item.name}}", "n1"],
    ["single { brace } and }} alone", "single { brace } and }} alone"],
    ["{{inputs.parameters.should-print}} == true", "true == true"],
  ])("%s", (text, want) => {
    expect(substituteTags(text, vars)).toBe(want);
  });

  it("resolves a nested tag as Argo does: {{a {{b}} keeps the outer braces", () => {
    expect(substituteTags("{{x {{item}}", vars)).toBe("{{x x");
    expect(() => substituteTags("{{x {{nope}}", vars)).toThrow("failed to resolve {{x {{nope}}");
  });

  it("does not re-substitute values that contain tags", () => {
    expect(substituteTags("{{a}}", { a: "{{b}}", b: "no" })).toBe("{{b}}");
  });

  it("fails on a missing variable, naming the tag", () => {
    expect(() => substituteTags("x {{inputs.parameters.nope}} y", vars)).toThrow(ExpressionError);
    expect(() => substituteTags("x {{inputs.parameters.nope}} y", vars)).toThrow(
      'failed to resolve {{inputs.parameters.nope}}: no variable named "inputs.parameters.nope"',
    );
  });

  it("keeps a missing variable verbatim with onMissing: keep", () => {
    expect(substituteTags("a {{ nope }} {{workflow.name}}", vars, { onMissing: "keep" })).toBe("a {{ nope }} wf-abc");
  });

  it("fails on an unterminated tag", () => {
    expect(() => substituteTags("a {{b", vars)).toThrow('unterminated tag "{{" at 2');
  });
});

describe("substituteTags: expression tags", () => {
  it.each([
    ["{{=inputs.parameters.message}}", "hello world"],
    ["{{= inputs.parameters[\"should-print\"] == 'true'}}", "true"],
    ["{{=jsonpath(workflow.parameters.json, '$[0].value') == 'true'}}", "true"],
    ["{{=asInt(inputs.parameters.n) + 1}}", "42"],
    ["{{=asInt(inputs.parameters.n) / 2}}", "20.5"],
    ["{{=4 / 2}}", "2"],
    ["{{=1000000 * 10}}", "10000000"],
    ["{{=[1, 2]}}", "[1,2]"],
    ["{{=filter([1, 2], { # > 1})}}", "[2]"],
    ["{{=map([1, 2], { # * 2 })}}", "[2,4]"],
    ["{{=toJson([1, 2])}}", "[1,2]"],
    ["{{={b: 1, a: 'x'} }}", '{"a":"x","b":1}'],
    ["{{=true}}", "true"],
    ["{{=sprig.trim('  x ')}}", "x"],
    ["{{=steps['flip-coin'].outputs.result}}", "heads"],
    ["{{=item.name}}", "n1"],
    ["{{=len(fromJSON(tasks.gen.outputs.result))}}", "3"],
    ["{{=inputs.parameters.n == '41' ? 'yes' : 'no'}}", "yes"],
    ["{{='<a&b>'}}", "<a&b>"],
    ["{{=['<']}}", '["\\u003c"]'],
    ["n={{=asInt(inputs.parameters.n)}}, m={{inputs.parameters.n}}", "n=41, m=41"],
  ])("%s", (text, want) => {
    expect(substituteTags(text, vars)).toBe(want);
  });

  it("ends a tag at the first }}, as Argo's template engine does", () => {
    expect(() => substituteTags("{{={b: 1}}}", vars)).toThrow('expression "{b: 1": unexpected end of input');
  });

  it("sees the most specific names when a name is also a prefix (inputs.parameters)", () => {
    expect(substituteTags("{{=inputs.parameters.message}}", vars)).toBe("hello world");
    expect(substituteTags("{{inputs.parameters}}", vars)).toBe(vars["inputs.parameters"]);
  });

  it("fails on a nil result, an unknown name, or a syntax error, naming the tag", () => {
    expect(() => substituteTags("{{=inputs.parameters.nope}}", vars)).toThrow("failed to evaluate {{=inputs.parameters.nope}}: the result is nil");
    expect(() => substituteTags("{{=nope + 1}}", vars)).toThrow('failed to evaluate {{=nope + 1}}: expression "nope + 1": unknown name nope at 0');
    expect(() => substituteTags("{{=1 +}}", vars)).toThrow("unexpected end of input");
  });

  it("keeps unresolvable expression tags verbatim with onMissing: keep", () => {
    const keep = { onMissing: "keep" } as const;
    expect(substituteTags("{{=nope + 1}} {{=1 + 1}}", vars, keep)).toBe("{{=nope + 1}} 2");
    expect(substituteTags("{{=inputs.parameters.nope}}", vars, keep)).toBe("{{=inputs.parameters.nope}}");
  });

  it("keeps exit-handler and retry variables for later, as Argo does, even when their parent exists", () => {
    const keep = { onMissing: "keep" } as const;
    expect(substituteTags("{{=workflow.status == 'Succeeded'}}", vars, keep)).toBe("{{=workflow.status == 'Succeeded'}}");
    expect(substituteTags("{{=sprig.int(retries)}}", vars, keep)).toBe("{{=sprig.int(retries)}}");
    expect(substituteTags("{{=asInt(lastRetry.exitCode) > 1}}", vars, keep)).toBe("{{=asInt(lastRetry.exitCode) > 1}}");
    expect(substituteTags("{{=workflow.status == 'Succeeded'}}", { ...vars, "workflow.status": "Succeeded" }, keep)).toBe("true");
    expect(substituteTags("{{=sprig.int(retries) + 1}}", { retries: "2" })).toBe("3");
  });
});

describe("substituteTags: the scope an expression sees", () => {
  it("gives the same answers as expanding the whole scope", () => {
    const v = { a: "leaf", "a.x": "1", "b.c": "2", b: "shadowed", item: "k", "steps.k.out": "K", "steps.j.out": "J" };
    expect(substituteTags("{{=a.b ?? 'd'}}", v)).toBe("d");
    expect(substituteTags("{{=a}}", v)).toBe('{"x":"1"}');
    expect(substituteTags("{{=b.c}}", v)).toBe("2");
    expect(substituteTags("{{=steps[item].out}}", v)).toBe("K");
    expect(substituteTags("{{=keys(steps)}}", v)).toBe('["j","k"]');
    expect(substituteTags("{{=len(keys($env))}}", v)).toBe("4");
    expect(substituteTags("{{=$env['item']}}", v)).toBe("k");
    expect(substituteTags("{{=let s = steps; s.j.out}}", v)).toBe("J");
    expect(substituteTags("{{=map(['j', 'k'], steps[#].out)}}", v)).toBe('["J","K"]');
  });
});

describe("expandScope", () => {
  it("nests dotted names", () => {
    expect(expandScope({ "a.b.c": "1", "a.d": "2", e: "3" })).toEqual({ a: { b: { c: "1" }, d: "2" }, e: "3" });
  });

  it("drops a name that is the prefix of a more specific one", () => {
    expect(expandScope({ "a.b": "1", a: "2" })).toEqual({ a: { b: "1" } });
    expect(expandScope({ a: "x", "a-b": "y", "a.c": "z" })).toEqual({ a: { c: "z" }, "a-b": "y" });
  });

  it("keeps names that merely share a prefix", () => {
    expect(expandScope({ "in.x": "1", "in.x-y": "2" })).toEqual({ in: { x: "1", "x-y": "2" } });
  });
});

describe("renderTagValue", () => {
  it.each<[unknown, string]>([
    ["s", "s"],
    [3, "3"],
    [2.5, "2.5"],
    [1e21, "1e+21"],
    [true, "true"],
    [[1, "a"], '[1,"a"]'],
    [{ b: 1, a: [true] }, '{"a":[true],"b":1}'],
  ])("%j → %s", (v, want) => {
    expect(renderTagValue(v)).toBe(want);
  });
});

describe("substituteTagsDeep (the one walker)", () => {
  it("substitutes every string of arrays and objects, copying them and keeping other values", () => {
    const input = { a: "{{x}}", list: ["{{x}}-1", 2, null, { deep: "{{x}}" }], flag: true };
    const out = substituteTagsDeep(input, (t) => substituteTags(t, { x: "v" }));
    expect(out).toEqual({ a: "v", list: ["v-1", 2, null, { deep: "v" }], flag: true });
    expect(input.a).toBe("{{x}}");
  });

  it("leaves skipped top-level keys and kept values alone", () => {
    const input = { inline: { s: "{{x}}" }, from: "{{x}}", args: { from: "{{x}}", value: "{{x}}", inline: "{{x}}" } };
    const out = substituteTagsDeep(input, (t) => substituteTags(t, { x: "v" }), { skip: new Set(["inline"]), keep: (k, v) => k === "from" && typeof v === "string" });
    expect(out).toEqual({ inline: { s: "{{x}}" }, from: "{{x}}", args: { from: "{{x}}", value: "v", inline: "v" } });
  });
});
