/**
 * Lexer for the expr-lang subset Argo evaluates in `{{=…}}` tags, `retryStrategy.expression`,
 * hook expressions and `depends` (see https://expr-lang.org/docs/language-definition).
 */
import { ExpressionError } from "../errors.ts";

/** Kinds of token the expr-lang lexer produces. */
export type TokenKind = "number" | "string" | "identifier" | "pointer" | "operator" | "bracket" | "eof";

/** One token with its offset (in UTF-16 code units) in the source text. */
export interface Token {
  readonly kind: TokenKind;
  /** Operator or bracket text, identifier name, string contents (unescaped), number text. */
  readonly value: string;
  readonly pos: number;
  /** For numbers: the literal was a float (has `.` or an exponent). */
  readonly float?: boolean;
}

/**
 * Builds the {@link ExpressionError} every part of `src/expr` throws: it names the source text,
 * the rule that failed and the offset, e.g. `expression "a +": unexpected end of input at 3`.
 */
export function expressionError(source: string, message: string, pos?: number): ExpressionError {
  const at = pos === undefined ? "" : ` at ${pos}`;
  return new ExpressionError(`expression ${JSON.stringify(source)}: ${message}${at}`);
}

// Longest first, so that `**` wins over `*`, `..` over `.`, `?.` over `?`.
const OPERATORS = [
  "not", // handled as word below; listed for documentation
  "&&", "||", "==", "!=", "<=", ">=", "**", "..", "?.", "??",
  "+", "-", "*", "/", "%", "^", "<", ">", "!", "?", ":", ",", ".", "|", ";", "=",
] as const;
const SYMBOL_OPERATORS = OPERATORS.filter((o) => o !== "not");

/** Words that are operators rather than identifiers. */
export const WORD_OPERATORS: ReadonlySet<string> = new Set([
  "not", "in", "and", "or", "matches", "contains", "startsWith", "endsWith", "let",
]);

function isIdentStart(c: string): boolean {
  return /[A-Za-z_$]/.test(c) || (c > "\u007f" && /\p{L}/u.test(c));
}
function isIdentPart(c: string): boolean {
  return /[A-Za-z0-9_$]/.test(c) || (c > "\u007f" && /[\p{L}\p{N}]/u.test(c));
}
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/**
 * Splits expr-lang source text into tokens.
 *
 * @throws ExpressionError on an unterminated string, a bad escape or an unknown character.
 * @example
 * lex("a + 1").map((t) => t.value); // ["a", "+", "1", ""]
 */
export function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "/") {
      while (i < n && source[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      if (end < 0) throw expressionError(source, "unterminated comment", i);
      i = end + 2;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === "." && isDigit(source[i + 1]) && source[i - 1] !== ".")) {
      i = lexNumber(source, i, tokens);
      continue;
    }
    if (c === '"' || c === "'") {
      i = lexQuoted(source, i, tokens);
      continue;
    }
    if (c === "`") {
      const end = source.indexOf("`", i + 1);
      if (end < 0) throw expressionError(source, "unterminated string", start);
      tokens.push({ kind: "string", value: source.slice(i + 1, end), pos: start });
      i = end + 1;
      continue;
    }
    if (c === "#") {
      i++;
      while (i < n && isIdentPart(source[i]!)) i++;
      tokens.push({ kind: "pointer", value: source.slice(start + 1, i), pos: start });
      continue;
    }
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(source[i]!)) i++;
      const word = source.slice(start, i);
      tokens.push({ kind: WORD_OPERATORS.has(word) ? "operator" : "identifier", value: word, pos: start });
      continue;
    }
    if (c === "(" || c === ")" || c === "[" || c === "]" || c === "{" || c === "}") {
      tokens.push({ kind: "bracket", value: c, pos: start });
      i++;
      continue;
    }
    const op = SYMBOL_OPERATORS.find((o) => source.startsWith(o, i));
    if (op === undefined) throw expressionError(source, `unexpected character ${JSON.stringify(c)}`, start);
    // `?.` followed by a digit is a ternary with a float (`a ?.5 : 1`), not optional chaining.
    if (op === "?." && isDigit(source[i + 2])) {
      tokens.push({ kind: "operator", value: "?", pos: start });
      i++;
      continue;
    }
    tokens.push({ kind: "operator", value: op, pos: start });
    i += op.length;
  }
  tokens.push({ kind: "eof", value: "", pos: n });
  return tokens;
}

function lexNumber(source: string, i: number, tokens: Token[]): number {
  const start = i;
  const n = source.length;
  const c1 = source[i + 1];
  if (source[i] === "0" && (c1 === "x" || c1 === "X" || c1 === "o" || c1 === "O" || c1 === "b" || c1 === "B")) {
    i += 2;
    while (i < n && /[0-9a-fA-F_]/.test(source[i]!)) i++;
    const text = source.slice(start, i).replace(/_/g, "");
    const radix = c1 === "x" || c1 === "X" ? 16 : c1 === "o" || c1 === "O" ? 8 : 2;
    const digits = text.slice(2);
    const valid = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : /^[01]+$/;
    if (!valid.test(digits)) throw expressionError(source, `invalid number ${source.slice(start, i)}`, start);
    tokens.push({ kind: "number", value: String(parseInt(digits, radix)), pos: start });
    return i;
  }
  let float = false;
  while (i < n && (isDigit(source[i]) || source[i] === "_")) i++;
  // A `.` starts a fraction unless it is the range operator `..` or a member access `1.foo`.
  if (source[i] === "." && source[i + 1] !== "." && !(source[i + 1] !== undefined && isIdentStart(source[i + 1]!) && source[i + 1] !== "e" && source[i + 1] !== "E")) {
    float = true;
    i++;
    while (i < n && (isDigit(source[i]) || source[i] === "_")) i++;
  }
  if (source[i] === "e" || source[i] === "E") {
    let j = i + 1;
    if (source[j] === "+" || source[j] === "-") j++;
    if (isDigit(source[j])) {
      float = true;
      i = j;
      while (i < n && isDigit(source[i])) i++;
    }
  }
  if (i < n && isIdentStart(source[i]!)) {
    throw expressionError(source, `invalid number ${source.slice(start, i + 1)}`, start);
  }
  const text = source.slice(start, i).replace(/_/g, "");
  tokens.push({ kind: "number", value: text, pos: start, float });
  return i;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  n: "\n", t: "\t", r: "\r", a: "\u0007", b: "\b", f: "\f", v: "\v", "\\": "\\", '"': '"', "'": "'", "/": "/",
};

/** Reads a `'…'` or `"…"` literal with Go-style escapes; returns the offset after it. */
function lexQuoted(source: string, i: number, tokens: Token[]): number {
  const quote = source[i]!;
  const start = i;
  i++;
  let out = "";
  for (;;) {
    const c = source[i];
    if (c === undefined || c === "\n") throw expressionError(source, "unterminated string", start);
    if (c === quote) break;
    if (c !== "\\") {
      out += c;
      i++;
      continue;
    }
    const e = source[i + 1];
    if (e === undefined) throw expressionError(source, "unterminated string", start);
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      i += 2;
      continue;
    }
    const hexLen = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
    if (hexLen > 0) {
      const hex = source.slice(i + 2, i + 2 + hexLen);
      if (hex.length !== hexLen || !/^[0-9a-fA-F]+$/.test(hex)) {
        throw expressionError(source, `invalid escape \\${e}${hex}`, i);
      }
      out += String.fromCodePoint(parseInt(hex, 16));
      i += 2 + hexLen;
      continue;
    }
    if (/[0-7]/.test(e)) {
      const oct = source.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) throw expressionError(source, `invalid escape \\${oct}`, i);
      out += String.fromCharCode(parseInt(oct, 8));
      i += 4;
      continue;
    }
    throw expressionError(source, `invalid escape \\${e}`, i);
  }
  tokens.push({ kind: "string", value: out, pos: start });
  return i + 1;
}
