/**
 * Parser for the expr-lang subset Argo evaluates (`{{=…}}` tags, `retryStrategy.expression`,
 * hook expressions, `depends`). Produces a small AST that {@link evaluateAst} interprets.
 */
import { expressionError, lex, type Token } from "./lexer.ts";

/** A node of a parsed expr-lang expression. Every node carries its source offset `pos`. */
export type ExprAst =
  | { readonly kind: "nil"; readonly pos: number }
  | { readonly kind: "bool"; readonly value: boolean; readonly pos: number }
  | { readonly kind: "number"; readonly value: number; readonly float: boolean; readonly pos: number }
  | { readonly kind: "string"; readonly value: string; readonly pos: number }
  | { readonly kind: "identifier"; readonly name: string; readonly pos: number }
  /** `#` (name ""), `#index`, `#acc`, or a `let`/closure variable reference via `#name`. */
  | { readonly kind: "pointer"; readonly name: string; readonly pos: number }
  | { readonly kind: "array"; readonly elements: readonly ExprAst[]; readonly pos: number }
  | { readonly kind: "map"; readonly entries: readonly { readonly key: ExprAst; readonly value: ExprAst }[]; readonly pos: number }
  /** `a.b` (property is a string node), `a[x]`, `a?.b`; `optional` once a `?.` appeared in the chain. */
  | { readonly kind: "member"; readonly object: ExprAst; readonly property: ExprAst; readonly optional: boolean; readonly pos: number }
  | { readonly kind: "slice"; readonly object: ExprAst; readonly from: ExprAst | undefined; readonly to: ExprAst | undefined; readonly optional: boolean; readonly pos: number }
  | { readonly kind: "call"; readonly callee: ExprAst; readonly args: readonly ExprAst[]; readonly optional: boolean; readonly pos: number }
  /** A predicate argument of `filter`, `map`, `all` …: evaluated once per element with `#` bound. */
  | { readonly kind: "closure"; readonly body: ExprAst; readonly pos: number }
  | { readonly kind: "unary"; readonly op: string; readonly operand: ExprAst; readonly pos: number }
  | { readonly kind: "binary"; readonly op: string; readonly left: ExprAst; readonly right: ExprAst; readonly pos: number }
  | { readonly kind: "conditional"; readonly test: ExprAst; readonly consequent: ExprAst; readonly alternate: ExprAst; readonly pos: number }
  | { readonly kind: "let"; readonly name: string; readonly value: ExprAst; readonly body: ExprAst; readonly pos: number };

interface BinaryOperator {
  readonly precedence: number;
  readonly right?: boolean;
}

// Precedences as in expr-lang's operator table (higher binds tighter).
const BINARY: Readonly<Record<string, BinaryOperator>> = {
  "|": { precedence: 0 },
  or: { precedence: 10 },
  "||": { precedence: 10 },
  and: { precedence: 15 },
  "&&": { precedence: 15 },
  "==": { precedence: 20 },
  "!=": { precedence: 20 },
  "<": { precedence: 20 },
  ">": { precedence: 20 },
  ">=": { precedence: 20 },
  "<=": { precedence: 20 },
  in: { precedence: 20 },
  matches: { precedence: 20 },
  contains: { precedence: 20 },
  startsWith: { precedence: 20 },
  endsWith: { precedence: 20 },
  "..": { precedence: 25 },
  "+": { precedence: 30 },
  "-": { precedence: 30 },
  "*": { precedence: 60 },
  "/": { precedence: 60 },
  "%": { precedence: 60 },
  "**": { precedence: 100, right: true },
  "^": { precedence: 100, right: true },
  "??": { precedence: 500 },
};

const UNARY: Readonly<Record<string, number>> = { not: 50, "!": 50, "-": 90, "+": 90 };

/** Builtins whose second argument is a predicate evaluated per element (`#`). */
export const PREDICATE_BUILTINS: ReadonlySet<string> = new Set([
  "all", "any", "none", "one", "filter", "map", "count", "find", "findIndex", "findLast",
  "findLastIndex", "groupBy", "sortBy", "reduce", "sum", "mean", "median",
]);

const COMPARISONS: ReadonlySet<string> = new Set(["==", "!=", "<", ">", "<=", ">=", "in", "matches", "contains", "startsWith", "endsWith"]);

const NEGATABLE = new Set(["in", "matches", "contains", "startsWith", "endsWith"]);

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  private get current(): Token {
    return this.tokens[this.i]!;
  }
  private peek(offset = 1): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const t = this.current;
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }
  private is(kind: Token["kind"], value?: string): boolean {
    const t = this.current;
    return t.kind === kind && (value === undefined || t.value === value);
  }
  private fail(message: string, token: Token = this.current): never {
    throw expressionError(this.source, message, token.pos);
  }
  private unexpected(token: Token = this.current): never {
    if (token.kind === "eof") this.fail("unexpected end of input", token);
    this.fail(`unexpected token ${JSON.stringify(token.value)}`, token);
  }
  private expect(kind: Token["kind"], value: string): Token {
    if (!this.is(kind, value)) {
      if (this.current.kind === "eof") this.fail(`unexpected end of input, expected ${JSON.stringify(value)}`);
      this.fail(`expected ${JSON.stringify(value)}, got ${JSON.stringify(this.current.value)}`);
    }
    return this.next();
  }

  parseProgram(): ExprAst {
    if (this.is("eof")) this.fail("empty expression");
    const node = this.parseSequence();
    if (!this.is("eof")) this.unexpected();
    return node;
  }

  /** `let x = v; body` or a plain expression. */
  private parseSequence(): ExprAst {
    if (this.is("operator", "let")) {
      const letTok = this.next();
      const name = this.current;
      if (name.kind !== "identifier") this.fail("expected a variable name after let", name);
      this.next();
      this.expect("operator", "=");
      const value = this.parseExpression(0);
      this.expect("operator", ";");
      const body = this.parseSequence();
      return { kind: "let", name: name.value, value, body, pos: letTok.pos };
    }
    return this.parseExpression(0);
  }

  private parseExpression(precedence: number): ExprAst {
    if (++this.depth > 500) this.fail("expression nested too deeply");
    try {
      let left = this.parsePrimary();
      let previous: string | undefined;
      for (;;) {
        const t = this.current;
        if (t.kind !== "operator") break;
        let op = t.value;
        let negate = false;
        let width = 1;
        if (op === "not" && this.peek().kind === "operator" && NEGATABLE.has(this.peek().value)) {
          negate = true;
          op = this.peek().value;
          width = 2;
        }
        const info = BINARY[op];
        if (info === undefined || info.precedence < precedence) break;
        if (op === "|" && precedence > 0) break;
        for (let k = 0; k < width; k++) this.next();
        if (op === "|") {
          left = this.parsePipe(left, t);
          previous = op;
          continue;
        }
        if (previous === "??" && op !== "??") {
          this.fail(`operator ${op} and coalesce expressions (??) cannot be mixed; wrap either in parentheses`, t);
        }
        previous = op;
        const right = this.parseExpression(info.right ? info.precedence : info.precedence + 1);
        const bin: ExprAst = { kind: "binary", op, left, right, pos: t.pos };
        left = negate ? { kind: "unary", op: "not", operand: bin, pos: t.pos } : bin;
        if (COMPARISONS.has(op) && !negate) left = this.parseChainedComparison(left, bin);
      }
      if (precedence === 0 && this.is("operator", "?")) left = this.parseConditional(left);
      return left;
    } finally {
      this.depth--;
    }
  }

  /** `a < b < c` means `a < b && b < c`, as in expr-lang. */
  private parseChainedComparison(root: ExprAst, last: Extract<ExprAst, { kind: "binary" }>): ExprAst {
    let previous = last;
    for (;;) {
      const t = this.current;
      if (t.kind !== "operator" || !COMPARISONS.has(t.value)) return root;
      this.next();
      const right = this.parseExpression(21);
      const cmp: Extract<ExprAst, { kind: "binary" }> = { kind: "binary", op: t.value, left: previous.right, right, pos: t.pos };
      root = { kind: "binary", op: "&&", left: root, right: cmp, pos: t.pos };
      previous = cmp;
    }
  }

  /** `left | f(args…)` is `f(left, args…)`. */
  private parsePipe(left: ExprAst, pipe: Token): ExprAst {
    const name = this.current;
    if (name.kind !== "identifier") this.fail("expected a function call after |", name);
    this.next();
    const args: ExprAst[] = [left];
    if (this.is("bracket", "(")) {
      this.next();
      args.push(...this.parseArguments(name.value, 1));
    }
    return { kind: "call", callee: { kind: "identifier", name: name.value, pos: name.pos }, args, optional: false, pos: pipe.pos };
  }

  private parseConditional(test: ExprAst): ExprAst {
    const q = this.next();
    if (this.is("operator", ":")) {
      // Elvis form `a ?: b`.
      this.next();
      const alternate = this.parseExpression(0);
      return { kind: "binary", op: "?:", left: test, right: alternate, pos: q.pos };
    }
    const consequent = this.parseExpression(0);
    this.expect("operator", ":");
    const alternate = this.parseExpression(0);
    return { kind: "conditional", test, consequent, alternate, pos: q.pos };
  }

  private parsePrimary(): ExprAst {
    const t = this.current;
    if (t.kind === "operator") {
      const precedence = UNARY[t.value];
      if (precedence !== undefined) {
        this.next();
        const operand = this.parseExpression(precedence);
        return this.parsePostfix({ kind: "unary", op: t.value === "!" ? "not" : t.value, operand, pos: t.pos });
      }
    }
    if (t.kind === "bracket" && t.value === "(") {
      this.next();
      const inner = this.parseSequence();
      this.expect("bracket", ")");
      return this.parsePostfix(inner);
    }
    return this.parsePostfix(this.parseSecondary());
  }

  private parseSecondary(): ExprAst {
    const t = this.current;
    switch (t.kind) {
      case "number": {
        this.next();
        const value = Number(t.value);
        if (!Number.isFinite(value)) this.fail(`invalid number ${t.value}`, t);
        return { kind: "number", value, float: t.float === true, pos: t.pos };
      }
      case "string":
        this.next();
        return { kind: "string", value: t.value, pos: t.pos };
      case "pointer":
        this.next();
        return { kind: "pointer", name: t.value, pos: t.pos };
      case "identifier": {
        this.next();
        switch (t.value) {
          case "true":
            return { kind: "bool", value: true, pos: t.pos };
          case "false":
            return { kind: "bool", value: false, pos: t.pos };
          case "nil":
            return { kind: "nil", pos: t.pos };
        }
        const ident: ExprAst = { kind: "identifier", name: t.value, pos: t.pos };
        if (this.is("bracket", "(")) {
          this.next();
          return { kind: "call", callee: ident, args: this.parseArguments(t.value, 0), optional: false, pos: t.pos };
        }
        return ident;
      }
      case "bracket":
        if (t.value === "[") return this.parseArray();
        if (t.value === "{") return this.parseMap();
        return this.unexpected();
      case "operator":
        if (t.value === ".") {
          // `.field` inside a predicate is shorthand for `#.field`.
          this.next();
          const name = this.current;
          if (name.kind !== "identifier" && name.kind !== "operator") this.unexpected(name);
          this.next();
          return {
            kind: "member",
            object: { kind: "pointer", name: "", pos: t.pos },
            property: { kind: "string", value: name.value, pos: name.pos },
            optional: false,
            pos: t.pos,
          };
        }
        return this.unexpected();
      default:
        return this.unexpected();
    }
  }

  /** Arguments after `(`; predicate builtins take a closure as second argument. */
  private parseArguments(callee: string, offset: number): ExprAst[] {
    const args: ExprAst[] = [];
    const predicate = PREDICATE_BUILTINS.has(callee);
    while (!this.is("bracket", ")")) {
      if (args.length > 0) {
        this.expect("operator", ",");
        if (this.is("bracket", ")")) break; // trailing comma
      }
      const index = args.length + offset;
      if (predicate && index === 1) {
        const start = this.current;
        let body: ExprAst;
        if (this.is("bracket", "{")) {
          this.next();
          body = this.parseSequence();
          this.expect("bracket", "}");
        } else {
          body = this.parseExpression(0);
        }
        args.push({ kind: "closure", body, pos: start.pos });
      } else {
        args.push(this.parseExpression(0));
      }
    }
    this.next();
    return args;
  }

  private parseArray(): ExprAst {
    const open = this.next();
    const elements: ExprAst[] = [];
    while (!this.is("bracket", "]")) {
      if (elements.length > 0) {
        this.expect("operator", ",");
        if (this.is("bracket", "]")) break;
      }
      elements.push(this.parseExpression(0));
    }
    this.next();
    return { kind: "array", elements, pos: open.pos };
  }

  private parseMap(): ExprAst {
    const open = this.next();
    const entries: { key: ExprAst; value: ExprAst }[] = [];
    while (!this.is("bracket", "}")) {
      if (entries.length > 0) {
        this.expect("operator", ",");
        if (this.is("bracket", "}")) break;
      }
      const k = this.current;
      let key: ExprAst;
      if (k.kind === "identifier" || k.kind === "operator" && /^[A-Za-z]/.test(k.value)) {
        this.next();
        key = { kind: "string", value: k.value, pos: k.pos };
      } else if (k.kind === "string") {
        this.next();
        key = { kind: "string", value: k.value, pos: k.pos };
      } else if (k.kind === "number") {
        this.next();
        key = { kind: "string", value: String(Number(k.value)), pos: k.pos };
      } else if (k.kind === "bracket" && k.value === "(") {
        this.next();
        key = this.parseExpression(0);
        this.expect("bracket", ")");
      } else {
        this.fail(`a map key must be a name, a string or a number, got ${k.kind === "eof" ? "end of input" : JSON.stringify(k.value)}`, k);
      }
      this.expect("operator", ":");
      entries.push({ key, value: this.parseExpression(0) });
    }
    this.next();
    return { kind: "map", entries, pos: open.pos };
  }

  private parsePostfix(node: ExprAst): ExprAst {
    let optional = false;
    for (;;) {
      const t = this.current;
      if (t.kind === "operator" && (t.value === "." || t.value === "?.")) {
        this.next();
        if (t.value === "?.") optional = true;
        if (t.value === "?." && this.is("bracket", "[")) {
          node = this.parseIndex(node, optional);
          continue;
        }
        const name = this.current;
        // Operator words (`in`, `contains` …) are valid property names after a dot.
        if (name.kind !== "identifier" && !(name.kind === "operator" && /^[A-Za-z]/.test(name.value))) {
          if (name.kind === "eof") this.fail("unexpected end of input, expected a property name", name);
          this.fail(`expected a property name, got ${JSON.stringify(name.value)}`, name);
        }
        this.next();
        node = { kind: "member", object: node, property: { kind: "string", value: name.value, pos: name.pos }, optional, pos: name.pos };
        if (this.is("bracket", "(")) {
          this.next();
          // Only top-level builtins take predicates: `sprig.all(…)` is a plain call.
          node = { kind: "call", callee: node, args: this.parseArguments("", 0), optional, pos: name.pos };
        }
        continue;
      }
      if (t.kind === "bracket" && t.value === "[") {
        node = this.parseIndex(node, optional);
        continue;
      }
      if (t.kind === "bracket" && t.value === "(" && node.kind !== "identifier") {
        this.next();
        node = { kind: "call", callee: node, args: this.parseArguments("", 0), optional, pos: t.pos };
        continue;
      }
      return node;
    }
  }

  private parseIndex(object: ExprAst, optional: boolean): ExprAst {
    const open = this.expect("bracket", "[");
    if (this.is("operator", ":")) {
      this.next();
      const to = this.is("bracket", "]") ? undefined : this.parseExpression(0);
      this.expect("bracket", "]");
      return { kind: "slice", object, from: undefined, to, optional, pos: open.pos };
    }
    const index = this.parseExpression(0);
    if (this.is("operator", ":")) {
      this.next();
      const to = this.is("bracket", "]") ? undefined : this.parseExpression(0);
      this.expect("bracket", "]");
      return { kind: "slice", object, from: index, to, optional, pos: open.pos };
    }
    this.expect("bracket", "]");
    return { kind: "member", object, property: index, optional, pos: open.pos };
  }
}

const CACHE_LIMIT = 10_000;
const cache = new Map<string, ExprAst>();

/**
 * Parses an expr-lang expression (the subset Argo uses) into an {@link ExprAst}. Results are
 * cached by source text, so re-parsing the same tag is a map lookup.
 *
 * @throws ExpressionError naming the source, the rule and the offset, e.g.
 *   `expression "a +": unexpected end of input at 3`.
 * @example
 * const ast = parseExpression("inputs.parameters['n'] == '3'");
 * ast.kind; // "binary"
 */
export function parseExpression(src: string): ExprAst {
  const hit = cache.get(src);
  if (hit !== undefined) return hit;
  const ast = new Parser(src, lex(src)).parseProgram();
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(src, ast);
  return ast;
}
