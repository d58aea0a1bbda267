/**
 * Argo's `when` conditions: after `{{…}}` substitution the text is evaluated with govaluate
 * (upstream workflow/controller/steps.go `shouldExecute`). Bare words, which govaluate would
 * read as variables, are turned into strings, so `heads == heads` is true without quotes.
 *
 * Supported: numbers (all floats, as in govaluate), `'…'` and `"…"` strings, `true`/`false`,
 * bare words and `[escaped words]` (strings), parentheses, lists `(1, 2)`,
 * `== != > >= < <= =~ !~ in`, `&& ||`, `+ - * / % **`, `& | ^ << >>`, prefix `! - ~`,
 * `? :` and `??`.
 */
import { compileGoRegex, type GoRegex } from "./go-regex.ts";
import { expressionError } from "./lexer.ts";
import { equal, formatGoFloat, isNil, type EvaluationFailure } from "./values.ts";

type GToken =
  | { readonly kind: "number"; readonly value: number; readonly pos: number }
  | { readonly kind: "string"; readonly value: string; readonly pos: number; readonly word?: boolean }
  | { readonly kind: "bool"; readonly value: boolean; readonly pos: number }
  | { readonly kind: "op"; readonly value: string; readonly pos: number }
  | { readonly kind: "eof"; readonly pos: number };

const GOVALUATE_OPERATORS = [
  "==", "!=", ">=", "<=", "=~", "!~", "&&", "||", "**", ">>", "<<", "??",
  ">", "<", "+", "-", "*", "/", "%", "&", "|", "^", "!", "~", "?", ":", "(", ")", ",",
];

function isLetter(c: string): boolean {
  return /\p{L}/u.test(c);
}
function isWordPart(c: string): boolean {
  return /[\p{L}\p{N}_.]/u.test(c);
}

function lexWhen(src: string): GToken[] {
  const tokens: GToken[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9.]/.test(c)) {
      if (c === "0" && (src[i + 1] === "x" || src[i + 1] === "X")) {
        i += 2;
        while (i < src.length && /[0-9a-fA-F]/.test(src[i]!)) i++;
        const hex = src.slice(start + 2, i);
        if (hex === "") throw expressionError(src, `unable to parse hex value ${JSON.stringify(src.slice(start, i))}`, start);
        tokens.push({ kind: "number", value: parseInt(hex, 16), pos: start });
        continue;
      }
      while (i < src.length && /[0-9.]/.test(src[i]!)) i++;
      const text = src.slice(start, i);
      if (!/^(\d+\.?\d*|\.\d+)$/.test(text)) throw expressionError(src, `unable to parse numeric value ${JSON.stringify(text)}`, start);
      tokens.push({ kind: "number", value: Number(text), pos: start });
      continue;
    }
    if (isLetter(c)) {
      while (i < src.length && isWordPart(src[i]!)) i++;
      const word = src.slice(start, i);
      if (word === "true" || word === "false") tokens.push({ kind: "bool", value: word === "true", pos: start });
      else if (word === "in" || word === "IN") tokens.push({ kind: "op", value: "in", pos: start });
      else if (word.includes(".")) {
        // govaluate reads `a.b` as an accessor into a parameter, not a variable, so Argo does not
        // turn it into a string: evaluation fails because there are no parameters.
        throw expressionError(src, `${JSON.stringify(word)} is read as an accessor (it contains "."); quote it: '${word}'`, start);
      } else tokens.push({ kind: "string", value: word, pos: start, word: true });
      continue;
    }
    if (c === "[") {
      const end = src.indexOf("]", i + 1);
      if (end < 0) throw expressionError(src, "unclosed [ of an escaped variable name", start);
      tokens.push({ kind: "string", value: src.slice(i + 1, end), pos: start, word: true });
      i = end + 1;
      continue;
    }
    if (c === "'" || c === '"') {
      let out = "";
      i++;
      for (;;) {
        const d = src[i];
        if (d === undefined) throw expressionError(src, "unclosed string literal", start);
        if (d === "\\" && i + 1 < src.length) {
          out += src[i + 1];
          i += 2;
          continue;
        }
        if (d === c) break;
        out += d;
        i++;
      }
      i++;
      tokens.push({ kind: "string", value: out, pos: start });
      continue;
    }
    const op = GOVALUATE_OPERATORS.find((o) => src.startsWith(o, i));
    if (op === undefined) {
      throw expressionError(src, `invalid token ${JSON.stringify(c)} (hint: try wrapping the affected expression in quotes)`, start);
    }
    tokens.push({ kind: "op", value: op, pos: start });
    i += op.length;
  }
  tokens.push({ kind: "eof", pos: src.length });
  return tokens;
}

type GNode =
  | { readonly kind: "value"; readonly value: unknown; readonly pos: number }
  | { readonly kind: "list"; readonly items: readonly GNode[]; readonly pos: number }
  | { readonly kind: "prefix"; readonly op: string; readonly operand: GNode; readonly pos: number }
  | { readonly kind: "binary"; readonly op: string; readonly left: GNode; readonly right: GNode; readonly pos: number };

// Lowest precedence first.
const LEVELS: readonly (readonly string[])[] = [
  ["?", ":", "??"],
  ["||"],
  ["&&"],
  ["==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"],
  ["&", "|", "^"],
  ["<<", ">>"],
  ["+", "-"],
  ["*", "/", "%"],
  ["**"],
];

class WhenParser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly tokens: readonly GToken[],
  ) {}

  private get current(): GToken {
    return this.tokens[this.i]!;
  }

  private unexpected(): never {
    const t = this.current;
    if (t.kind === "eof") throw expressionError(this.src, "unexpected end of expression", t.pos);
    const text = "value" in t ? String(t.value) : "";
    throw expressionError(this.src, `unexpected ${JSON.stringify(text)} (two values need an operator between them; quote strings with spaces)`, t.pos);
  }

  parse(): GNode {
    if (this.current.kind === "eof") throw expressionError(this.src, "empty expression", 0);
    const node = this.level(0);
    if (this.tokens[this.i]!.kind !== "eof") this.unexpected();
    return node;
  }

  private level(n: number): GNode {
    if (n >= LEVELS.length) return this.prefix();
    let left = this.level(n + 1);
    const ops = LEVELS[n]!;
    for (;;) {
      const t = this.current;
      if (t.kind !== "op" || !ops.includes(t.value)) return left;
      this.i++;
      const right = this.level(n + 1);
      left = { kind: "binary", op: t.value, left, right, pos: t.pos };
    }
  }

  private prefix(): GNode {
    const t = this.current;
    if (t.kind === "op" && (t.value === "!" || t.value === "-" || t.value === "~")) {
      this.i++;
      return { kind: "prefix", op: t.value, operand: this.prefix(), pos: t.pos };
    }
    return this.value();
  }

  private value(): GNode {
    const t = this.current;
    switch (t.kind) {
      case "number":
      case "string":
      case "bool":
        this.i++;
        return { kind: "value", value: t.value, pos: t.pos };
      case "op":
        if (t.value === "(") {
          this.i++;
          const items = [this.level(0)];
          while (this.current.kind === "op" && this.current.value === ",") {
            this.i++;
            items.push(this.level(0));
          }
          const close = this.current;
          if (close.kind !== "op" || close.value !== ")") {
            if (close.kind === "eof") throw expressionError(this.src, "unbalanced parenthesis", t.pos);
            this.unexpected();
          }
          this.i++;
          return items.length === 1 ? items[0]! : { kind: "list", items, pos: t.pos };
        }
        return this.unexpected();
      default:
        return this.unexpected();
    }
  }
}

function show(v: unknown): string {
  if (typeof v === "number") return formatGoFloat(v);
  if (Array.isArray(v)) return `[${v.map(show).join(" ")}]`;
  if (isNil(v)) return "<nil>";
  return String(v);
}

function evalNode(src: string, node: GNode): unknown {
  const fail = (message: string, at: GNode = node): never => {
    throw expressionError(src, message, at.pos);
  };
  switch (node.kind) {
    case "value":
      return node.value;
    case "list":
      return node.items.map((n) => evalNode(src, n));
    case "prefix": {
      const v = evalNode(src, node.operand);
      if (node.op === "!") return typeof v === "boolean" ? !v : fail(`value '${show(v)}' cannot be used with the prefix '!', it is not a bool`);
      if (typeof v !== "number") return fail(`value '${show(v)}' cannot be used with the prefix '${node.op}', it is not a number`);
      return node.op === "-" ? -v : Number(~BigInt(Math.trunc(v)));
    }
    case "binary":
      break;
  }
  const op = node.op;
  if (op === "&&" || op === "||") {
    const l = evalNode(src, node.left);
    if (typeof l !== "boolean") return fail(`value '${show(l)}' cannot be used with the logical operator '${op}', it is not a bool`);
    if (op === "&&" ? !l : l) return l;
    const r = evalNode(src, node.right);
    if (typeof r !== "boolean") return fail(`value '${show(r)}' cannot be used with the logical operator '${op}', it is not a bool`);
    return r;
  }
  if (op === "?") {
    const l = evalNode(src, node.left);
    if (typeof l !== "boolean") return fail(`value '${show(l)}' cannot be used with the ternary operator '?', it is not a bool`);
    return l ? evalNode(src, node.right) : null;
  }
  if (op === ":" || op === "??") {
    const l = evalNode(src, node.left);
    return isNil(l) ? evalNode(src, node.right) : l;
  }
  const l = evalNode(src, node.left);
  const r = evalNode(src, node.right);
  const numbers = (what: string): [number, number] => {
    if (typeof l !== "number") return fail(`value '${show(l)}' cannot be used with the ${what} '${op}', it is not a number`);
    if (typeof r !== "number") return fail(`value '${show(r)}' cannot be used with the ${what} '${op}', it is not a number`);
    return [l, r];
  };
  switch (op) {
    case "==":
      return equal(l, r) && typeof l === typeof r;
    case "!=":
      return !(equal(l, r) && typeof l === typeof r);
    case ">":
    case ">=":
    case "<":
    case "<=": {
      if (typeof l === "string" && typeof r === "string") {
        return op === ">" ? l > r : op === ">=" ? l >= r : op === "<" ? l < r : l <= r;
      }
      const [a, b] = numbers("comparator");
      return op === ">" ? a > b : op === ">=" ? a >= b : op === "<" ? a < b : a <= b;
    }
    case "=~":
    case "!~": {
      if (typeof l !== "string") return fail(`value '${show(l)}' cannot be used with the comparator '${op}', it is not a string`);
      if (typeof r !== "string") return fail(`value '${show(r)}' cannot be used with the comparator '${op}', it is not a string`);
      let re: GoRegex;
      try {
        re = compileGoRegex(r);
      } catch (e) {
        return fail((e as EvaluationFailure).message);
      }
      return re.test(l) === (op === "=~");
    }
    case "in":
      if (!Array.isArray(r)) return fail(`value '${show(r)}' cannot be used with the comparator 'in', it is not an array`);
      return r.some((x) => equal(x, l) && typeof x === typeof l);
    case "+":
      if (typeof l === "string" || typeof r === "string") return show(l) + show(r);
      return numbers("modifier").reduce((a, b) => a + b);
    case "-":
    case "*":
    case "/":
    case "%":
    case "**": {
      const [a, b] = numbers("modifier");
      return op === "-" ? a - b : op === "*" ? a * b : op === "/" ? a / b : op === "%" ? a % b : a ** b;
    }
    default: {
      // & | ^ << >> on int64 values
      const [a, b] = numbers("modifier").map((x) => BigInt(Math.trunc(x))) as [bigint, bigint];
      const v = op === "&" ? a & b : op === "|" ? a | b : op === "^" ? a ^ b : op === "<<" ? a << b : a >> b;
      return Number(v);
    }
  }
}

const cache = new Map<string, GNode>();

/**
 * Evaluates an Argo `when` condition (already substituted) as govaluate does in Argo: bare words
 * are strings, numbers are floats, `==` needs equal types (`5 == '5'` is false).
 *
 * @throws ExpressionError on a syntax error, a type error, or a result that is not a boolean.
 * @example
 * evaluateWhen("heads == heads"); // true
 * evaluateWhen("5 > 3 && 'a' == 'a'"); // true
 * evaluateWhen("tails =~ '^h'"); // false
 */
export function evaluateWhen(src: string): boolean {
  if (src === "") return true; // Argo: an empty `when` always executes
  let ast = cache.get(src);
  if (ast === undefined) {
    ast = new WhenParser(src, lexWhen(src)).parse();
    if (cache.size > 10_000) cache.clear();
    cache.set(src, ast);
  }
  const result = evalNode(src, ast);
  if (typeof result !== "boolean") {
    throw expressionError(src, `expected a boolean result, got ${show(result)}`);
  }
  return result;
}
