/**
 * Reads the OPs a package exports — both forms, `defineOp({...})` and `class … extends OP` —
 * from its TypeScript sources or its `.d.ts` declarations with ts-morph, without importing or
 * running any of it. ts-morph only parses: no module resolution and no type checker, which
 * would cost seconds; exports and identifiers are followed through the package's own relative
 * imports. Parameter types are read from the zod schema (`z.number()`, `z.enum([…])`,
 * `z.array(…)`, `z.object({…})`, or zod's types in a `.d.ts`); defaults and descriptions from
 * `param(schema, { default, description })`, `.default(…)`, `.describe(…)`, `.optional()`.
 *
 * ts-morph (with its own TypeScript) is heavy: only `opflow ops` loads this module.
 */
import fs from "node:fs";
import path from "node:path";
import {
  Node,
  Project,
  ts,
  type CallExpression,
  type ClassDeclaration,
  type ObjectLiteralExpression,
  type SourceFile,
  type TypeNode,
} from "ts-morph";
import { CatalogError } from "../errors.ts";
import { kebabCase } from "../op/op.ts";
import type { OpFieldInfo, OpInfo } from "./op-info.ts";

/** Options of {@link readOps}. */
export interface ReadOpsOptions {
  /**
   * Directory that relative targets, package names and the reported file names are taken from.
   * @default process.cwd()
   */
  readonly cwd?: string;
}

/** The file to read and the package directory it belongs to. */
interface Target {
  readonly entry: string;
  readonly root: string;
}

const TS_FILE = /\.(?:[cm]?ts|tsx)$/i;
/** How deep identifiers are followed to their definitions (`const sig = {...}` used in `inputs: sig`). */
const MAX_DEPTH = 8;

/**
 * Lists the OPs that `target` exports: a TypeScript or `.d.ts` file, a package directory (its
 * package.json's `exports`/`types`/`main` entry, else `src/index.ts` or `index.ts`) or the name
 * of an installed package. Throws a {@link CatalogError} when the target cannot be found or a
 * file does not parse (naming the file and line).
 *
 * @example
 * const ops = readOps("node_modules/@me/chem-ops");
 * console.log(ops.map((op) => `${op.name}: ${op.inputs.map((i) => i.name).join(", ")}`));
 */
export function readOps(target: string | undefined, options: ReadOpsOptions = {}): OpInfo[] {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const { entry, root } = resolveTarget(target ?? ".", cwd);
  // Parsing only: no module resolution, no type checker (both cost seconds on a real package);
  // exports and identifiers are followed through the package's own relative imports.
  const project = new Project({
    skipFileDependencyResolution: true,
    compilerOptions: { noResolve: true, noLib: true, types: [], allowJs: false, target: ts.ScriptTarget.ES2022 },
  });
  const reader = new Reader(project, root, cwd);
  const ops: OpInfo[] = [];
  for (const [exportName, declaration] of reader.exportsOf(entry)) {
    const op = reader.opOf(exportName, declaration);
    if (op) ops.push(op);
  }
  return ops.sort((a, b) => a.name.localeCompare(b.name) || a.export.localeCompare(b.export));
}

// ---------------------------------------------------------------------------------------
// Finding what to read

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new CatalogError(`${file}: not valid JSON: ${(error as Error).message}`);
  }
}

/** Paths named by an `exports` value, types first. */
function exportPaths(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(exportPaths);
  if (typeof value !== "object" || value === null) return [];
  const record = value as Record<string, unknown>;
  if ("." in record) return exportPaths(record["."]);
  const order = ["types", "import", "default", "require", "node"];
  const keys = [...order.filter((k) => k in record), ...Object.keys(record).filter((k) => !order.includes(k) && !k.startsWith("."))];
  return keys.flatMap((k) => exportPaths(record[k]));
}

/** The file to read for a package directory. */
function packageEntry(dir: string): string | undefined {
  const pkgFile = path.join(dir, "package.json");
  const candidates: string[] = [];
  if (fs.existsSync(pkgFile)) {
    const pkg = readJson(pkgFile);
    candidates.push(...exportPaths(pkg["exports"]));
    for (const field of ["types", "typings", "main", "module"]) {
      if (typeof pkg[field] === "string") candidates.push(pkg[field] as string);
    }
  }
  candidates.push("src/index.ts", "index.ts", "index.d.ts");
  for (const candidate of candidates) {
    const file = path.resolve(dir, candidate);
    const options = TS_FILE.test(file) ? [file] : [file.replace(/\.([cm]?)js$/i, ".d.$1ts"), file.replace(/\.([cm]?)js$/i, ".$1ts")];
    const found = options.find((f) => TS_FILE.test(f) && fs.existsSync(f) && fs.statSync(f).isFile());
    if (found) return found;
  }
  return undefined;
}

/** The nearest directory at or above `file` holding a package.json (else the file's directory). */
function packageRoot(file: string): string {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return path.dirname(file);
  }
}

function resolveTarget(target: string, cwd: string): Target {
  const local = path.resolve(cwd, target);
  if (fs.existsSync(local)) {
    if (fs.statSync(local).isFile()) {
      if (!TS_FILE.test(local)) throw new CatalogError(`${target}: opflow ops reads TypeScript sources (.ts) or declarations (.d.ts), not ${path.extname(local) || "this file"}`);
      return { entry: local, root: packageRoot(local) };
    }
    const entry = packageEntry(local);
    if (!entry) throw new CatalogError(`${target}: found no entry to read (package.json "exports"/"types"/"main" with .ts or .d.ts files, src/index.ts or index.ts)`);
    return { entry, root: local };
  }
  if (!target.startsWith(".") && !path.isAbsolute(target)) {
    for (let dir = cwd; ; dir = path.dirname(dir)) {
      const pkgDir = path.join(dir, "node_modules", target);
      if (fs.existsSync(path.join(pkgDir, "package.json"))) {
        const entry = packageEntry(pkgDir);
        if (!entry) throw new CatalogError(`package ${target} (${pkgDir}): ships no TypeScript sources or .d.ts declarations to read`);
        return { entry, root: pkgDir };
      }
      if (path.dirname(dir) === dir) break;
    }
    throw new CatalogError(`${target}: no such file, directory or installed package (looked in node_modules from ${cwd} up)`);
  }
  throw new CatalogError(`${target}: no such file or directory`);
}

// ---------------------------------------------------------------------------------------
// Reading: files, exports and identifiers followed by hand through relative imports

const ARTIFACT_TYPES: Record<string, string> = { path: "path", list: "path[]", record: "Record<string, path>", nested: "nested" };

function unwrap(node: Node): Node {
  let current = node;
  while (Node.isAsExpression(current) || Node.isParenthesizedExpression(current) || Node.isSatisfiesExpression(current)) {
    current = current.getExpression();
  }
  return current;
}

function calleeName(call: CallExpression): string {
  return call.getExpression().getText().replace(/\s+/g, "");
}

function lastSegment(name: string): string {
  return name.split(".").pop() as string;
}

function docOf(node: Node): string | undefined {
  const holder = Node.isVariableDeclaration(node) ? node.getVariableStatement() : node;
  if (!holder || !Node.isJSDocable(holder)) return undefined;
  const text = holder
    .getJsDocs()
    .map((d) => d.getDescription().trim())
    .filter(Boolean)
    .join("\n");
  return text ? (text.split(/\n\s*\n/)[0] as string).replace(/\s+/g, " ") : undefined;
}

/** Wraps a union or function type in parentheses before `[]`. */
function arrayOf(type: string): string {
  return /[|&]|=>/.test(type) ? `(${type})[]` : `${type}[]`;
}

class Reader {
  private readonly exportCache = new Map<string, Map<string, Node>>();

  constructor(
    private readonly project: Project,
    private readonly root: string,
    private readonly cwd: string,
  ) {}

  /** Parses a file of the package, refusing one that does not parse. */
  file(abs: string): SourceFile {
    const existing = this.project.getSourceFile(abs);
    if (existing) return existing;
    const file = this.project.addSourceFileAtPath(abs);
    const parse = (file.compilerNode as unknown as { parseDiagnostics?: readonly ts.DiagnosticWithLocation[] }).parseDiagnostics;
    const diagnostic = parse ? parse[0] : this.project.getProgram().compilerObject.getSyntacticDiagnostics(file.compilerNode)[0];
    if (diagnostic) {
      const { line, character } = file.compilerNode.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
      throw new CatalogError(`${this.relative(abs)}:${line + 1}:${character + 1}: does not parse: ${message}`);
    }
    return file;
  }

  relative(abs: string): string {
    return path.relative(this.cwd, abs) || path.basename(abs);
  }

  /** The file a relative module specifier names (`./x.ts`, `./x.js` for `./x.ts` or `./x.d.ts`, `./dir`); else undefined. */
  resolveModule(from: SourceFile, specifier: string): SourceFile | undefined {
    if (!specifier.startsWith(".")) return undefined;
    const base = path.resolve(path.dirname(from.getFilePath()), specifier);
    const js = /\.([cm]?)js$/i.exec(base);
    const candidates = TS_FILE.test(base)
      ? [base]
      : js
        ? [base.replace(/\.([cm]?)js$/i, ".$1ts"), base.replace(/\.([cm]?)js$/i, ".d.$1ts"), base.replace(/\.js$/i, ".tsx")]
        : [`${base}.ts`, `${base}.d.ts`, `${base}.tsx`, path.join(base, "index.ts"), path.join(base, "index.d.ts")];
    const found = candidates.find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
    return found ? this.file(found) : undefined;
  }

  /** What a file exports: exported name → its declaration (variable, class or `export default` expression). */
  exportsOf(abs: string, depth = 0): Map<string, Node> {
    const cached = this.exportCache.get(abs);
    if (cached) return cached;
    const result = new Map<string, Node>();
    this.exportCache.set(abs, result);
    const file = this.file(abs);
    for (const statement of file.getStatements()) {
      if (Node.isVariableStatement(statement) && statement.hasExportKeyword()) {
        for (const declaration of statement.getDeclarations()) result.set(declaration.getName(), declaration);
      } else if (Node.isClassDeclaration(statement) && statement.hasExportKeyword()) {
        const name = statement.hasDefaultKeyword() ? "default" : statement.getName();
        if (name) result.set(name, statement);
      } else if (Node.isExportAssignment(statement) && !statement.isExportEquals()) {
        result.set("default", statement);
      } else if (Node.isExportDeclaration(statement) && !statement.isTypeOnly()) {
        const specifier = statement.getModuleSpecifierValue();
        const named = statement.getNamedExports();
        if (specifier === undefined) {
          for (const spec of named) {
            const local = this.localDeclaration(file, spec.getName(), depth + 1);
            if (local) result.set(spec.getAliasNode()?.getText() ?? spec.getName(), local);
          }
          continue;
        }
        const target = depth < MAX_DEPTH ? this.resolveModule(file, specifier) : undefined;
        if (!target || statement.getNamespaceExport()) continue;
        const theirs = this.exportsOf(target.getFilePath(), depth + 1);
        if (named.length === 0 && !statement.hasNamedExports()) {
          for (const [name, node] of theirs) if (name !== "default" && !result.has(name)) result.set(name, node);
        } else {
          for (const spec of named) {
            const node = theirs.get(spec.getName());
            if (node) result.set(spec.getAliasNode()?.getText() ?? spec.getName(), node);
          }
        }
      }
    }
    return result;
  }

  /** The declaration a name has at the top level of a file: its own variable or class, or what it imports. */
  localDeclaration(file: SourceFile, name: string, depth = 0): Node | undefined {
    const variable = file.getVariableDeclaration(name);
    if (variable) return variable;
    const cls = file.getClass(name);
    if (cls) return cls;
    if (depth >= MAX_DEPTH) return undefined;
    for (const imported of file.getImportDeclarations()) {
      for (const spec of imported.getNamedImports()) {
        if ((spec.getAliasNode()?.getText() ?? spec.getName()) !== name) continue;
        const target = this.resolveModule(file, imported.getModuleSpecifierValue());
        return target ? this.exportsOf(target.getFilePath(), depth + 1).get(spec.getName()) : undefined;
      }
      if (imported.getDefaultImport()?.getText() === name) {
        const target = this.resolveModule(file, imported.getModuleSpecifierValue());
        return target ? this.exportsOf(target.getFilePath(), depth + 1).get("default") : undefined;
      }
    }
    return undefined;
  }

  /** Follows an identifier to the initializer of the top-level variable it names. */
  resolved(node: Node, depth = 0): Node {
    const bare = unwrap(node);
    if (depth >= MAX_DEPTH || !Node.isIdentifier(bare)) return bare;
    const declaration = this.localDeclaration(bare.getSourceFile(), bare.getText());
    if (Node.isVariableDeclaration(declaration)) {
      const init = declaration.getInitializer();
      if (init) return this.resolved(init, depth + 1);
    }
    return bare;
  }

  stringValue(node: Node | undefined): string | undefined {
    if (!node) return undefined;
    const bare = this.resolved(node);
    if (Node.isStringLiteral(bare) || Node.isNoSubstitutionTemplateLiteral(bare)) return bare.getLiteralValue();
    return undefined;
  }

  property(object: ObjectLiteralExpression, name: string): Node | undefined {
    const prop = object.getProperty(name);
    if (Node.isPropertyAssignment(prop)) return prop.getInitializer();
    if (Node.isShorthandPropertyAssignment(prop)) return prop.getNameNode();
    return undefined;
  }

  extendsOP(cls: ClassDeclaration, depth = 0): boolean {
    const base = cls.getExtends()?.getExpression();
    if (!base || depth >= MAX_DEPTH) return false;
    const text = base.getText();
    if (text === "OP" || text.endsWith(".OP")) return true;
    const parent = Node.isIdentifier(base) ? this.localDeclaration(cls.getSourceFile(), text) : undefined;
    return Node.isClassDeclaration(parent) ? this.extendsOP(parent, depth + 1) : false;
  }

  // -------------------------------------------------------------------------------------
  // OPs

  opOf(exportName: string, declaration: Node): OpInfo | undefined {
    const file = declaration.getSourceFile();
    const where = { file: this.relative(file.getFilePath()), line: declaration.getStartLineNumber() };
    const from = file.isDeclarationFile() ? ("declarations" as const) : ("source" as const);
    if (Node.isClassDeclaration(declaration)) {
      if (!this.extendsOP(declaration)) return undefined;
      const staticProp = (name: string) => {
        const prop = declaration.getStaticProperty(name);
        return Node.isPropertyDeclaration(prop) ? prop : undefined;
      };
      const fields = (which: "inputs" | "outputs"): OpFieldInfo[] => {
        const prop = staticProp(which);
        const init = prop?.getInitializer();
        if (init) return this.signatureFields(init);
        const typeNode = prop?.getTypeNode();
        return typeNode ? this.fieldsOfTypeNode(typeNode) : [];
      };
      const description = this.stringValue(staticProp("description")?.getInitializer()) ?? docOf(declaration);
      return {
        name: this.stringValue(staticProp("opName")?.getInitializer()) ?? kebabCase(declaration.getName() ?? exportName),
        export: exportName,
        form: "class",
        ...(description ? { description } : {}),
        ...where,
        from,
        inputs: fields("inputs"),
        outputs: fields("outputs"),
      };
    }
    let expression: Node | undefined;
    if (Node.isVariableDeclaration(declaration)) expression = declaration.getInitializer();
    else if (Node.isExportAssignment(declaration)) expression = declaration.getExpression();
    const call = expression ? this.resolved(expression) : undefined;
    if (call && Node.isCallExpression(call) && lastSegment(calleeName(call)) === "defineOp") {
      const arg = call.getArguments()[0];
      const options = arg ? this.resolved(arg) : undefined;
      if (!options || !Node.isObjectLiteralExpression(options)) return undefined;
      const inputs = this.property(options, "inputs");
      const outputs = this.property(options, "outputs");
      const description = this.stringValue(this.property(options, "description")) ?? docOf(declaration);
      return {
        name: this.stringValue(this.property(options, "name")) ?? exportName,
        export: exportName,
        form: "defineOp",
        ...(description ? { description } : {}),
        ...where,
        from,
        inputs: inputs ? this.signatureFields(inputs) : [],
        outputs: outputs ? this.signatureFields(outputs) : [],
      };
    }
    // A declaration file: `export declare const hello: OPDefinition<{…inputs}, {…outputs}>`.
    if (Node.isVariableDeclaration(declaration) && !expression) {
      const typeNode = declaration.getTypeNode();
      const ref = typeNode && (Node.isTypeReference(typeNode) || Node.isImportTypeNode(typeNode)) ? typeNode : undefined;
      const refName = ref ? lastSegment(Node.isTypeReference(ref) ? ref.getTypeName().getText() : (ref.getQualifier()?.getText() ?? "")) : "";
      if (!ref || refName !== "OPDefinition") return undefined;
      const [inputs, outputs] = ref.getTypeArguments();
      const description = docOf(declaration);
      return {
        name: exportName,
        export: exportName,
        form: "defineOp",
        ...(description ? { description } : {}),
        ...where,
        from,
        inputs: inputs ? this.fieldsOfTypeNode(inputs) : [],
        outputs: outputs ? this.fieldsOfTypeNode(outputs) : [],
      };
    }
    return undefined;
  }

  // -------------------------------------------------------------------------------------
  // Signatures in source: param(schema, options), bigParameter(…), artifact(options), artifact.list/record(…)

  signatureFields(expression: Node, depth = 0): OpFieldInfo[] {
    const object = this.resolved(expression);
    if (!Node.isObjectLiteralExpression(object)) return [];
    const fields: OpFieldInfo[] = [];
    for (const prop of object.getProperties()) {
      if (Node.isSpreadAssignment(prop) && depth < MAX_DEPTH) {
        fields.push(...this.signatureFields(prop.getExpression(), depth + 1));
      } else if (Node.isPropertyAssignment(prop)) {
        const nameNode = prop.getNameNode();
        const name = Node.isStringLiteral(nameNode) || Node.isNoSubstitutionTemplateLiteral(nameNode) ? nameNode.getLiteralValue() : prop.getName();
        fields.push(this.fieldOf(name, prop.getInitializerOrThrow()));
      } else if (Node.isShorthandPropertyAssignment(prop)) {
        fields.push(this.fieldOf(prop.getName(), prop.getNameNode()));
      }
    }
    return fields;
  }

  fieldOf(name: string, expression: Node): OpFieldInfo {
    const call = this.resolved(expression);
    if (!Node.isCallExpression(call)) return { name, kind: "parameter", type: "unknown", optional: false };
    const callee = calleeName(call);
    const base = lastSegment(callee);
    const args = call.getArguments();
    if (base === "param" || base === "bigParameter") {
      const options = args[1] ? this.resolved(args[1]) : undefined;
      const opt = (key: string) => (options && Node.isObjectLiteralExpression(options) ? this.property(options, key) : undefined);
      const facts = args[0] ? this.zod(args[0]) : { type: "unknown", optional: false };
      const defaultText = opt("default")?.getText() ?? facts.default;
      const description = this.stringValue(opt("description")) ?? facts.description;
      return {
        name,
        kind: "parameter",
        type: facts.type,
        optional: facts.optional || defaultText !== undefined,
        ...(defaultText !== undefined ? { default: defaultText } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(base === "bigParameter" ? { big: true } : {}),
      };
    }
    const shape =
      base === "artifact" ? "path" : callee.endsWith("artifact.list") ? "list" : callee.endsWith("artifact.record") ? "record" : callee.endsWith("artifact.nested") ? "nested" : undefined;
    if (shape) {
      const optionsArg = args[shape === "nested" ? 1 : 0];
      const options = optionsArg ? this.resolved(optionsArg) : undefined;
      const opt = (key: string) => (options && Node.isObjectLiteralExpression(options) ? this.property(options, key) : undefined);
      const description = this.stringValue(opt("description"));
      const optional = opt("optional");
      return {
        name,
        kind: "artifact",
        type: ARTIFACT_TYPES[shape] as string,
        optional: optional !== undefined && unwrap(optional).getKind() === ts.SyntaxKind.TrueKeyword,
        ...(description !== undefined ? { description } : {}),
      };
    }
    return { name, kind: "parameter", type: "unknown", optional: false };
  }

  /** What a zod schema's method chain says: its output type, optional, default and description. */
  zod(expression: Node, depth = 0): ZodFacts {
    const facts: { type?: string; optional: boolean; nullable: boolean; default?: string; description?: string } = {
      optional: false,
      nullable: false,
    };
    let node = this.resolved(expression, depth);
    for (let steps = 0; steps < 64 && depth < MAX_DEPTH; steps++) {
      if (!Node.isCallExpression(node)) break;
      const callee = node.getExpression();
      if (!Node.isPropertyAccessExpression(callee)) break;
      const method = callee.getName();
      const args = node.getArguments();
      const receiver = this.resolved(callee.getExpression(), depth + 1);
      if (Node.isIdentifier(receiver) && (receiver.getText() === "z" || receiver.getText() === "zod")) {
        facts.type = this.zodBase(method, args, depth);
        break;
      }
      if (method === "optional" || method === "nullish") facts.optional = true;
      if (method === "nullable" || method === "nullish") facts.nullable = true;
      if ((method === "default" || method === "prefault") && args[0] && facts.default === undefined) {
        facts.default = args[0].getText();
        facts.optional = true;
      }
      if (method === "describe" && facts.description === undefined) facts.description = this.stringValue(args[0]);
      if (method === "meta" && facts.description === undefined && args[0]) {
        const meta = this.resolved(args[0]);
        if (Node.isObjectLiteralExpression(meta)) facts.description = this.stringValue(this.property(meta, "description"));
      }
      if (method === "array") {
        facts.type = arrayOf(this.zod(receiver, depth + 1).type);
        break;
      }
      node = receiver;
    }
    const type = facts.type ?? "unknown";
    return {
      type: facts.nullable ? `${type} | null` : type,
      optional: facts.optional,
      ...(facts.default !== undefined ? { default: facts.default } : {}),
      ...(facts.description !== undefined ? { description: facts.description } : {}),
    };
  }

  zodBase(method: string, args: Node[], depth: number): string {
    if (method in SIMPLE_ZOD) return SIMPLE_ZOD[method] as string;
    const first = args[0] ? this.resolved(args[0], depth + 1) : undefined;
    if (method === "enum" && first && Node.isArrayLiteralExpression(first)) {
      return first.getElements().map((e) => JSON.stringify(this.stringValue(e) ?? e.getText())).join(" | ");
    }
    if (method === "literal" && first) return Node.isArrayLiteralExpression(first) ? first.getElements().map((e) => e.getText()).join(" | ") : first.getText();
    if (method === "array" && first) return arrayOf(this.zod(first, depth + 1).type);
    if ((method === "union" || method === "tuple") && first && Node.isArrayLiteralExpression(first)) {
      const items = first.getElements().map((e) => this.zod(e, depth + 1).type);
      return method === "union" ? items.join(" | ") : `[${items.join(", ")}]`;
    }
    if (method === "record" && args.length >= 2) {
      return `Record<${this.zod(args[0] as Node, depth + 1).type}, ${this.zod(args[1] as Node, depth + 1).type}>`;
    }
    if ((method === "object" || method === "strictObject" || method === "looseObject") && first && Node.isObjectLiteralExpression(first)) {
      const members = first.getProperties().flatMap((p) => {
        if (!Node.isPropertyAssignment(p)) return [];
        const inner = this.zod(p.getInitializerOrThrow(), depth + 1);
        return [`${p.getName()}${inner.optional && inner.default === undefined ? "?" : ""}: ${inner.type}`];
      });
      return members.length ? `{ ${members.join("; ")} }` : "{}";
    }
    return "unknown";
  }

  // -------------------------------------------------------------------------------------
  // Signatures in declarations: { name: ParamSpec<z.ZodString, false>; file: ArtifactSpec<"path", false> }

  fieldsOfTypeNode(node: TypeNode): OpFieldInfo[] {
    if (!Node.isTypeLiteral(node)) return [];
    return node.getProperties().map((member) => {
      const name = member.getName().replace(/^["']|["']$/g, "");
      const typeNode = member.getTypeNode();
      const ref = typeNode ? typeReference(typeNode) : undefined;
      if (!ref) return { name, kind: "parameter" as const, type: "unknown", optional: false };
      const [first, second] = ref.args;
      const optional = second?.getText() === "true";
      if (ref.name === "ArtifactSpec") {
        const shape = first?.getText().replace(/["']/g, "") ?? "path";
        return { name, kind: "artifact" as const, type: ARTIFACT_TYPES[shape] ?? shape, optional };
      }
      return { name, kind: "parameter" as const, type: first ? zodTypeText(first) : "unknown", optional };
    });
  }
}

/** What a zod schema says. */
interface ZodFacts {
  readonly type: string;
  readonly optional: boolean;
  readonly default?: string;
  readonly description?: string;
}

const SIMPLE_ZOD: Record<string, string> = {
  string: "string",
  email: "string",
  url: "string",
  uuid: "string",
  iso: "string",
  number: "number",
  int: "number",
  float64: "number",
  boolean: "boolean",
  bigint: "bigint",
  any: "any",
  unknown: "unknown",
  null: "null",
  date: "Date",
  json: "JSON value",
};

/** A type reference's last name segment and its type arguments (`z.ZodArray<z.ZodString>`, `import("zod").ZodString`). */
function typeReference(node: TypeNode): { name: string; args: TypeNode[] } | undefined {
  if (Node.isTypeReference(node)) return { name: lastSegment(node.getTypeName().getText()), args: node.getTypeArguments() };
  if (Node.isImportTypeNode(node)) return { name: lastSegment(node.getQualifier()?.getText() ?? ""), args: node.getTypeArguments() };
  return undefined;
}

const ZOD_SIMPLE_TYPES: Record<string, string> = {
  ZodString: "string",
  ZodEmail: "string",
  ZodURL: "string",
  ZodUUID: "string",
  ZodNumber: "number",
  ZodNumberFormat: "number",
  ZodInt: "number",
  ZodBoolean: "boolean",
  ZodBigInt: "bigint",
  ZodNull: "null",
  ZodAny: "any",
  ZodUnknown: "unknown",
  ZodDate: "Date",
};

/** The output type of a zod schema type as a `.d.ts` writes it. */
function zodTypeText(node: TypeNode, depth = 0): string {
  const ref = typeReference(node);
  if (!ref || depth > MAX_DEPTH) return node.getText();
  const { name, args } = ref;
  const arg = (i: number) => (args[i] ? zodTypeText(args[i] as TypeNode, depth + 1) : "unknown");
  if (name in ZOD_SIMPLE_TYPES) return ZOD_SIMPLE_TYPES[name] as string;
  switch (name) {
    case "ZodArray":
      return arrayOf(arg(0));
    case "ZodOptional":
    case "ZodDefault":
    case "ZodPrefault":
    case "ZodReadonly":
    case "ZodCatch":
      return arg(0);
    case "ZodNullable":
      return `${arg(0)} | null`;
    case "ZodLiteral":
      return args[0]?.getText() ?? "unknown";
    case "ZodEnum": {
      const shape = args[0];
      if (shape && Node.isTypeLiteral(shape)) {
        return shape
          .getProperties()
          .map((p) => p.getTypeNode()?.getText() ?? JSON.stringify(p.getName()))
          .join(" | ");
      }
      return "string";
    }
    case "ZodUnion":
    case "ZodTuple": {
      let list = args[0];
      if (list && Node.isTypeOperatorTypeNode(list)) list = list.getTypeNode();
      const items = list && Node.isTupleTypeNode(list) ? list.getElements().map((e) => zodTypeText(e, depth + 1)) : [];
      return name === "ZodUnion" ? items.join(" | ") || "unknown" : `[${items.join(", ")}]`;
    }
    case "ZodRecord":
      return `Record<${arg(0)}, ${arg(1)}>`;
    case "ZodObject": {
      const shape = args[0];
      if (!shape || !Node.isTypeLiteral(shape)) return "object";
      const members = shape.getProperties().map((p) => {
        const inner = p.getTypeNode();
        const optional = inner ? typeReference(inner)?.name === "ZodOptional" : false;
        return `${p.getName()}${optional ? "?" : ""}: ${inner ? zodTypeText(inner, depth + 1) : "unknown"}`;
      });
      return members.length ? `{ ${members.join("; ")} }` : "{}";
    }
    default:
      return node.getText();
  }
}
