/**
 * OP bundles: the module that defines an OP, bundled by esbuild with opflow's OP runner, zod
 * and whatever the module imports into one self-contained ESM file, so that any image with
 * Node.js ≥ 20 runs the OP with `node <hash>.mjs --op <name>` (no npm, no network, no opflow
 * installed). The file is named by the hash of its bytes; the same sources give the same bytes.
 *
 * What goes in:
 * - the module and what it imports, tree-shaken. opflow's own sources count as free of side
 *   effects, so only what the module uses of opflow is kept; what opflow loads lazily (the local
 *   engine, the cluster client, S3 storage: everything behind an `import()` in opflow's
 *   sources) is left out and fails with a clear message if a pod ever reaches it;
 * - the entry (`bundle-main.ts`) that finds the OP named by `--op` and runs it.
 *
 * What cannot go in is reported here, at compile time, naming the package: native addons
 * (`.node` files, `bindings`, `node-gyp-build`, …) and `require`/`import()` of computed names.
 * The ways out: list such packages in `externals` (left out of the bundle and installed into
 * its directory from the lock file), or run the OP in "installed" mode from an image that has
 * the packages.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildResult, Message, Plugin, PluginBuild } from "esbuild";
import { BundleError } from "./bundle-error.ts";
import { type BundleCacheKey, type InputStamps, lookupBundle, stampInputs, stampsUnchanged, storeBundle } from "./bundle-cache.ts";
import { findLockRoot, lockedClosure, type LockedPackage } from "./externals.ts";

export { BundleError };

/** Options of {@link bundleModule}. */
export interface BundleOptions {
  /**
   * Packages left out of the bundle: the bundle imports them at run time from a
   * `node_modules` folder beside it (see `installExternals`). Use it for native addons.
   * @default none: everything is bundled
   */
  readonly externals?: readonly string[];
  /**
   * Reuse a bundle made before of the same module (by this process, or by any process through
   * the bundle cache on disk, see `bundle-cache.ts`) when no file that went into it has
   * changed. `false`: run esbuild (what it makes still goes into the cache).
   * @default true
   */
  readonly cache?: boolean;
  /**
   * Minify the bundle (whitespace, syntax and local names; names of classes and functions are
   * kept so that error names stay readable).
   * @default true
   */
  readonly minify?: boolean;
}

/** One bundled module. */
export interface OpBundle {
  /** The bundled module (absolute path). */
  readonly module: string;
  /** Hash of the bundle's bytes (hex, 20 characters). */
  readonly hash: string;
  /** File name: `<hash>.mjs`. */
  readonly fileName: string;
  /** The bundle's bytes. */
  readonly contents: Uint8Array;
  /** Packages left out (see {@link BundleOptions.externals}), sorted. */
  readonly externals: readonly string[];
  /**
   * With externals: the folder of the lock file they are installed from, and the packages
   * (externals and their dependencies) at the versions it pins. Part of the hash.
   */
  readonly locked?: { readonly root: string; readonly packages: readonly LockedPackage[] };
}

/** Packages whose only purpose is loading a compiled addon: whoever imports them is native. */
const NATIVE_LOADERS = new Set(["bindings", "node-gyp-build", "node-gyp-build-optional-packages", "@mapbox/node-pre-gyp", "node-pre-gyp", "prebuild-install", "napi-build-utils"]);

/** esbuild messages that mean "this import cannot be resolved while bundling". */
const COMPUTED_IMPORT_WARNINGS = new Set(["unsupported-require-call", "unsupported-dynamic-import", "empty-glob"]);

/**
 * opflow's own dependencies but zod: what OPs rarely use (the Kubernetes client, minio, tar,
 * yaml, tsx). A first pass leaves them out without parsing them (the Kubernetes client alone
 * is megabytes); only when the result still imports one of them is it bundled after all.
 */
function opflowDependencies(): Set<string> {
  try {
    const pkg = JSON.parse(readFileSync(path.join(OPFLOW_SRC, "..", "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    return new Set(Object.keys(pkg.dependencies ?? {}).filter((d) => d !== "zod"));
  } catch {
    return new Set();
  }
}

/** Folder of opflow's sources (this file is `<src>/bundle/bundle.ts`). */
const OPFLOW_SRC = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
/**
 * Whether opflow runs from its TypeScript sources (this repository's `src/`) or from the
 * compiled package (`dist/`, where its modules import each other as `.js`).
 */
const FROM_SOURCES = existsSync(path.join(OPFLOW_SRC, "bundle", "bundle-main.ts"));
const BUNDLE_MAIN = path.join(OPFLOW_SRC, "bundle", FROM_SOURCES ? "bundle-main.ts" : "bundle-main.js");
/** Evaluated first in every bundle (see bundle-argv.ts). */
const BUNDLE_ARGV = path.join(OPFLOW_SRC, "bundle", FROM_SOURCES ? "bundle-argv.ts" : "bundle-argv.js");
/**
 * opflow's modules that work only outside pods, left out of OP bundles (their exports throw):
 * `bundle-sync` (with esbuild, the cache and this plugin: a pod never bundles), and
 * `parse-yaml` and the rebuilding of workflows from manifests (`from-manifest`, `manifest-plan`:
 * `Workflow.fromYaml`/`fromManifest`; with the `yaml` package, 120 KB of a bundle, and 10 KB of
 * opflow's own) unless code of the module or its packages names what uses them
 * ({@link MANIFEST_READING_USE}).
 */
const OUTSIDE_PODS = /[\\/](?:bundle[\\/]bundle-sync|argo[\\/]parse-yaml|workflow[\\/]from-manifest|workflow[\\/]manifest-plan)\.[jt]s$/;
const MANIFEST_READING = /[\\/](?:argo[\\/]parse-yaml|workflow[\\/]from-manifest|workflow[\\/]manifest-plan)\.[jt]s$/;
/** Code that may read a manifest when its module is loaded. */
const MANIFEST_READING_USE = /\bfromYaml\b|\bfromManifest\b/;

/** What an OP bundle replaces by stubs (see {@link ZOD_OPTIONAL}, {@link OUTSIDE_PODS}). */
interface Stubs {
  zodOptional: boolean;
  manifestReading: boolean;
}
/**
 * The imports the plugin decides on: bare names, opflow's own relative imports (`./op.ts`,
 * `./x.mjs`; `./x.js` in the compiled package) and `.node` files.
 */
const DECIDED_IMPORTS = FROM_SOURCES ? /^(?:[^./]|\.\.?\/.*\.(?:ts|mts|mjs)$)|\.node$/ : /^(?:[^./]|\.\.?\/.*\.(?:ts|mts|mjs|js)$)|\.node$/;

/** The npm package a file belongs to (`pkg` or `@scope/pkg`), from its `node_modules` path. */
export function packageOf(file: string): string | undefined {
  const parts = file.split(/[\\/]/);
  const i = parts.lastIndexOf("node_modules");
  if (i < 0 || i + 1 >= parts.length) return undefined;
  const first = parts[i + 1] as string;
  return first.startsWith("@") && i + 2 < parts.length ? `${first}/${parts[i + 2]}` : first;
}

/** The package name of an import specifier (`lodash/fp` → `lodash`), or undefined for a path. */
function specifierPackage(spec: string): string | undefined {
  if (spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("node:") || /^[a-z]+:/i.test(spec)) return undefined;
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** The folder esbuild's paths are relative to: the module's package root (stable across checkouts). */
function packageRootOf(file: string): string {
  let dir = path.dirname(file);
  for (;;) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.dirname(file);
    dir = up;
  }
}

function isOpflowSource(file: string): boolean {
  return file.startsWith(OPFLOW_SRC + path.sep);
}

const WAY_OUT =
  'list the package in the OP template\'s `externals` option (it is then installed from package-lock.json into the bundle\'s directory), or use installed mode (`code: "installed"`) with an image that has the package';

function what(pkg: string | undefined, file: string, root: string): string {
  return pkg ? `package "${pkg}"` : `module ${path.relative(root, file) || file}`;
}

/**
 * The esbuild plugin of OP bundles: opflow's sources side-effect free, opflow's lazy imports
 * left out, native addons reported.
 */
function opflowBundlePlugin(root: string, externals: ReadonlySet<string>, deferred: ReadonlySet<string>, problems: string[], stubs: Readonly<Stubs>): Plugin {
  return {
    name: "opflow-bundle",
    setup(build: PluginBuild) {
      // Only what may need a decision reaches this callback (esbuild calls it from Go, one round
      // trip per import): bare names, opflow's own relative imports (`./op.ts`, `./x.mjs`) and
      // `.node` files. Relative `.js` imports inside packages (most of zod) never do.
      build.onResolve({ filter: DECIDED_IMPORTS }, async (args) => {
        if (args.pluginData === "inner" || args.namespace === "opflow-lazy") return undefined;
        const importer = args.importer;
        const fromOpflow = isOpflowSource(importer);
        const pkg = specifierPackage(args.path);
        if (pkg && externals.has(pkg) && !fromOpflow) return { path: args.path, external: true };
        // Decided before the deferred packages below: a lazy import of one (tar, tsx) must not
        // count as a use, which would cost a second pass.
        if (fromOpflow && args.kind === "dynamic-import" && !isBuiltin(args.path)) {
          // The engine, the cluster client, S3 storage, tsx: what opflow loads only when used
          // outside a pod.
          // Named by what it is (one module however many import it: the bundle stays deterministic).
          const target = args.path.startsWith(".") ? path.relative(OPFLOW_SRC, path.resolve(args.resolveDir, args.path)).split(path.sep).join("/") : args.path;
          return { path: target, namespace: "opflow-lazy" };
        }
        // opflow's heavy dependencies (the Kubernetes client, minio, …) are not even parsed
        // unless a pass found them used (see bundleModule).
        if (pkg && fromOpflow && deferred.has(pkg)) return { path: args.path, external: true };
        if (args.path.endsWith(".node")) {
          const owner = packageOf(importer);
          problems.push(`${what(owner, importer, root)} loads the native addon ${JSON.stringify(args.path)}, which cannot be bundled`);
          return { path: args.path, external: true };
        }
        if (pkg && NATIVE_LOADERS.has(pkg) && !fromOpflow) {
          const owner = packageOf(importer);
          if (!owner || !externals.has(owner)) {
            problems.push(`${what(owner, importer, root)} is a native addon (it loads its compiled code through "${pkg}"), which cannot be bundled`);
          }
          return { path: args.path, external: true };
        }
        // opflow's sources import each other by explicit relative paths (`./op.ts`); other
        // imports resolve on esbuild's fast path, except bare names in the module's own code,
        // which may name opflow itself.
        if (fromOpflow && args.path.startsWith(".")) {
          const target = path.resolve(args.resolveDir, args.path);
          if (OUTSIDE_PODS.test(target) && isOpflowSource(target) && (stubs.manifestReading || !MANIFEST_READING.test(target))) {
            return { path: path.relative(OPFLOW_SRC, target).split(path.sep).join("/"), namespace: "opflow-outside-pods", pluginData: target };
          }
          if (isOpflowSource(target) && existsSync(target)) return { path: target, sideEffects: false };
          return undefined;
        }
        if (fromOpflow || !pkg || packageOf(importer) !== undefined || isBuiltin(args.path)) return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer, pluginData: "inner" });
        if (resolved.errors.length > 0 || resolved.external) return undefined;
        if (isOpflowSource(resolved.path)) return { path: resolved.path, sideEffects: false };
        return undefined;
      });
      // zod's `z.locales` holds every language's messages (200 KB minified, most of a bundle):
      // a bundle keeps English (zod's default) and names the way to any other.
      build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, async (args) => ({
        contents: zodLocalesIndex(await readFile(args.path, "utf8")),
        loader: "js",
        resolveDir: path.dirname(args.path),
      }));
      if (stubs.zodOptional) {
        build.onLoad({ filter: ZOD_OPTIONAL }, async (args) => ({ contents: zodOptionalStub(await readFile(args.path, "utf8"), args.path), loader: "js" }));
      }
      // opflow loads the yaml package lazily through require (start-up of the command); in a
      // bundle that reads manifests it is bundled: a static import esbuild can follow.
      build.onLoad({ filter: /[\\/]yaml-module\.[jt]s$/ }, () => ({
        contents: 'import * as YAML from "yaml"; export function yamlModule() { return YAML; }',
        loader: "js",
        resolveDir: OPFLOW_SRC,
      }));
      build.onLoad({ filter: /.*/, namespace: "opflow-outside-pods" }, async (args) => ({
        contents: exportStubs(
          await readFile(args.pluginData as string, "utf8"),
          `(name) => function () { throw new Error(\`opflow: \${name} (${args.path}) is not in OP bundles: a pod runs one OP; bundling and reading manifests happen outside pods (use installed mode to have all of opflow in the pod)\`); }`,
        ),
        loader: "js",
      }));
      // Each lazy module is one line calling a shared helper that holds the message.
      build.onResolve({ filter: /^opflow-lazy-message$/ }, () => ({ path: "message", namespace: "opflow-lazy-message" }));
      build.onLoad({ filter: /.*/, namespace: "opflow-lazy-message" }, () => ({
        contents: `export function notInBundle(what) { throw new Error(\`\${what}: a pod runs one OP; submitting workflows, the local engine and artifact storage clients run outside pods (use installed mode to have all of opflow in the pod)\`); }`,
        loader: "js",
      }));
      build.onLoad({ filter: /.*/, namespace: "opflow-lazy" }, (args) => ({
        contents: `import { notInBundle } from "opflow-lazy-message"; notInBundle(${JSON.stringify(`opflow: ${JSON.stringify(args.path)} is not part of an OP bundle`)});`,
        loader: "js",
      }));
    },
  };
}

/**
 * zod's `locales/index.js` with English only: every other locale becomes a function that
 * throws, naming the import that brings it into a bundle (one shared helper: a line each).
 */
export function zodLocalesIndex(source: string): string {
  const lines: string[] = [
    "const __opflowNoLocale = (name, file) => () => {",
    '  throw new Error(`zod locale "${name}" is not in OP bundles (they keep English only, to stay small): import it by its own path, import ${name} from "zod/v4/locales/${file}.js"`);',
    "};",
  ];
  for (const line of source.split("\n")) {
    const m = /^export \{ default as (\w+) \} from "\.\/([\w-]+)\.js";$/.exec(line.trim());
    if (!m || m[1] === "en") lines.push(line);
    else lines.push(`export const ${m[1]} = __opflowNoLocale(${JSON.stringify(m[1])}, ${JSON.stringify(m[2])});`);
  }
  return lines.join("\n");
}

/**
 * zod modules that only an explicit call reaches (`z.compile`, `z.fromJSONSchema`: 130 KB of
 * source, 44 KB of a minified bundle) but that `import { z } from "zod"` keeps, because the
 * namespace `z` holds them. An OP bundle replaces them by stubs unless code of the module or of
 * its packages names them (see `ZOD_OPTIONAL_USE`).
 */
const ZOD_OPTIONAL = /[\\/]zod[\\/]v4[\\/](?:core[\\/]compile|classic[\\/]from-json-schema)\.js$/;

/** Code that uses what {@link ZOD_OPTIONAL} leaves out. */
const ZOD_OPTIONAL_USE = /\bfromJSONSchema\b|\bcompileFn\b|\bwithParser\b|\bZodCompile\w*Error\b|\b(?:z|zod|core)\.compile\b|import\s*\{[^}]*\bcompile\b[^}]*\}\s*from\s*["']zod/;

/**
 * A zod module of {@link ZOD_OPTIONAL} as stubs: every function or class it exports throws,
 * naming itself and the way out; constants become symbols.
 */
export function zodOptionalStub(source: string, file: string): string {
  return exportStubs(
    source,
    `(name) => function () { throw new Error(\`zod's \${name} (${file.split(/[\\/]/).slice(-2).join("/")}) is not in this OP bundle: opflow leaves it out unless the OP's module names it (use installed mode, or name it in the module)\`); }`,
  );
}

/**
 * A module exporting what `source` exports (its top-level `export function|class|const …`
 * names), each function or class a function made by `stub` (JavaScript source of
 * `(name) => function`), each constant a symbol.
 */
function exportStubs(source: string, stub: string): string {
  const lines = [`const __opflowStub = ${stub};`];
  for (const m of source.matchAll(/^export\s+(?:async\s+)?(function\*?|class|const|let|var)\s+([\w$]+)/gm)) {
    const [, kind, name] = m as unknown as [string, string, string];
    lines.push(kind === "const" || kind === "let" || kind === "var" ? `export const ${name} = Symbol.for(${JSON.stringify(`opflow.bundle.missing.${name}`)});` : `export const ${name} = __opflowStub(${JSON.stringify(name)});`);
  }
  return lines.join("\n");
}

/**
 * Bundles made by this process, by module and options, with what went into them: a module
 * bundled again with nothing changed gives the same bundle without reading the disk cache
 * (compiling, then running or submitting, bundles once). Like a memo of a pure function, it
 * holds no workflow's state.
 */
const BUNDLE_MEMO = new Map<string, { readonly bundle: OpBundle; readonly inputs: InputStamps }>();

/** How a bundle names its module: the path relative to its package root. */
function moduleLabel(moduleFile: string, root: string): string {
  return path.relative(root, moduleFile).split(path.sep).join("/") || path.basename(moduleFile);
}

function entrySource(moduleFile: string, label: string): string {
  return [
    // Before the module: its "am I the program?" check must see the program, not the bundle.
    `import ${JSON.stringify(BUNDLE_ARGV)};`,
    `import * as mod from ${JSON.stringify(moduleFile)};`,
    `import { runBundledOp } from ${JSON.stringify(BUNDLE_MAIN)};`,
    `process.exitCode = await runBundledOp(mod, process.argv.slice(2), { module: ${JSON.stringify(label)} });`,
    "",
  ].join("\n");
}

/** Text of the esbuild messages, with their locations. */
function describe(messages: readonly Message[]): string {
  return messages.map((m) => (m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text)).join("; ");
}

/** A bundle request, checked and normalised. */
interface BundleRequest {
  readonly file: string;
  readonly externals: string[];
  readonly minify: boolean;
  readonly key: BundleCacheKey;
  readonly memoKey: string;
}

function bundleRequest(moduleFile: string, options: BundleOptions): BundleRequest {
  const file = path.resolve(moduleFile.startsWith("file:") ? fileURLToPath(moduleFile) : moduleFile);
  if (!existsSync(file)) throw new BundleError(`OP bundle: module ${file} does not exist`);
  const externals = [...new Set(options.externals ?? [])].sort();
  for (const e of externals) {
    if (!specifierPackage(e) || specifierPackage(e) !== e) throw new BundleError(`OP bundle of ${file}: externals: ${JSON.stringify(e)} is not an npm package name`);
  }
  const minify = options.minify ?? true;
  return { file, externals, minify, key: { module: file, externals, minify, fromSources: FROM_SOURCES }, memoKey: JSON.stringify([file, externals, minify]) };
}

function cachedOf(key: BundleCacheKey, memoKey: string): OpBundle | undefined {
  const memo = BUNDLE_MEMO.get(memoKey);
  if (memo && stampsUnchanged(memo.inputs)) return memo.bundle;
  return lookupBundle(key);
}

/**
 * The bundle {@link bundleModule} would return without running esbuild (made before by this
 * process or found in the bundle cache, nothing that went into it changed), or undefined.
 * Synchronous: `bundleModuleSync` asks here before it starts its bundling thread.
 *
 * @throws BundleError for a request {@link bundleModule} refuses (a missing module, a bad external).
 */
export function cachedBundle(moduleFile: string, options: BundleOptions = {}): OpBundle | undefined {
  if (options.cache === false) return undefined;
  const { key, memoKey } = bundleRequest(moduleFile, options);
  return cachedOf(key, memoKey);
}

/**
 * Bundles the module `moduleFile` (a path or `file:` URL; TypeScript or JavaScript) into one
 * self-contained ESM file that runs any OP the module exports: `node <hash>.mjs --op <name>`.
 *
 * @throws BundleError naming the package when something cannot be bundled (native addons,
 *   computed `require` / `import()`), or when esbuild fails.
 * @example
 * const b = await bundleModule("examples/hello.ts");
 * await fs.writeFile(b.fileName, b.contents); // node 3f2a….mjs --op hello
 */
export async function bundleModule(moduleFile: string, options: BundleOptions = {}): Promise<OpBundle> {
  const { file, externals, minify, key, memoKey } = bundleRequest(moduleFile, options);
  const root = packageRootOf(file);
  const problems: string[] = [];
  const label = moduleLabel(file, root);
  const cached = options.cache === false ? undefined : cachedOf(key, memoKey);
  if (cached) return cached;
  const { build } = await import("esbuild");
  const deferred = opflowDependencies();
  for (const e of externals) deferred.delete(e);
  const run = async (): Promise<BuildResult<{ metafile: true; write: false }>> => {
    problems.length = 0;
    try {
      return await build({
        stdin: { contents: entrySource(file, label), resolveDir: path.dirname(file), sourcefile: "opflow-bundle-entry.mjs", loader: "js" },
        absWorkingDir: root,
        // From this repository's sources, `@opflow/core` is its src/ (package.json "exports").
        ...(FROM_SOURCES ? { conditions: ["opflow-source"] } : {}),
        bundle: true,
        write: false,
        metafile: true,
        outfile: path.join(root, "bundle.mjs"),
        platform: "node",
        format: "esm",
        target: "node20",
        // CommonJS packages inside an ESM bundle still need `require` for Node's built-ins.
        banner: { js: 'import { createRequire as __opflowCreateRequire } from "node:module"; const require = __opflowCreateRequire(import.meta.url);' },
        // What `callerModule` (op.ts) reports inside the bundle, where every stack frame is the bundle's.
        define: { "process.env.OPFLOW_BUNDLED_MODULE": JSON.stringify(`file:///${label}`) },
        minify,
        keepNames: minify,
        legalComments: "none",
        charset: "utf8",
        logLevel: "silent",
        logOverride: { "unsupported-require-call": "warning", "unsupported-dynamic-import": "warning" },
        plugins: [opflowBundlePlugin(root, new Set(externals), deferred, problems, stubs)],
      });
    } catch (err) {
      const failure = err as { errors?: Message[]; message?: string };
      const text = failure.errors ? describe(failure.errors) : String(failure.message ?? err);
      throw new BundleError(`OP bundle of ${label}: esbuild failed: ${text}`);
    }
  };
  const stubs: Stubs = { zodOptional: true, manifestReading: true };
  let result = await run();
  // A deferred dependency the module does use: bundle it after all. What the stubs leave out,
  // named by code of the module or its packages: that too.
  const used = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => specifierPackage(i.path) ?? ""));
  const needed = used.filter((p) => deferred.has(p));
  const texts = Object.keys(result.metafile.inputs).flatMap((i) => {
    if (i.includes(":") || i === "<stdin>" || /[\\/]zod[\\/]/.test(i)) return [];
    const f = path.resolve(root, i);
    if (isOpflowSource(f)) return [];
    try {
      return [readFileSync(f, "utf8")];
    } catch {
      return [];
    }
  });
  const zodOptionalUsed = texts.some((t) => ZOD_OPTIONAL_USE.test(t));
  const manifestReadingUsed = texts.some((t) => MANIFEST_READING_USE.test(t));
  if (needed.length > 0 || zodOptionalUsed || manifestReadingUsed) {
    for (const p of needed) deferred.delete(p);
    if (manifestReadingUsed) deferred.delete("yaml");
    stubs.zodOptional = !zodOptionalUsed;
    stubs.manifestReading = !manifestReadingUsed;
    result = await run();
  }
  for (const w of result.warnings) {
    if (!w.id || !COMPUTED_IMPORT_WARNINGS.has(w.id) || !w.location) continue;
    const where = path.resolve(root, w.location.file);
    if (isOpflowSource(where)) continue; // opflow's own loaders (CLI, worker threads) never run in a pod
    const owner = packageOf(where);
    if (owner && externals.includes(owner)) continue;
    problems.push(`${what(owner, where, root)} imports a module whose name is computed at run time (${w.location.file}:${w.location.line}: ${w.location.lineText.trim().slice(0, 120)}), which cannot be bundled`);
  }
  if (problems.length > 0) {
    const unique = [...new Set(problems)].sort();
    throw new BundleError(`OP bundle of ${path.relative(root, file) || file}: ${unique.join("; ")}. Way out: ${WAY_OUT}`);
  }
  const output = result.outputFiles[0];
  if (!output) throw new BundleError(`OP bundle of ${file}: esbuild wrote no output`);
  const contents = output.contents;
  const digest = createHash("sha256").update(contents);
  let locked: OpBundle["locked"];
  if (externals.length > 0) {
    const lockRoot = findLockRoot(root);
    if (!lockRoot) throw new BundleError(`OP bundle of ${label}: externals ${externals.join(", ")} are installed from the project's package-lock.json, and there is none in ${root} or above`);
    const packages = lockedClosure(lockRoot, externals);
    for (const p of packages) digest.update(`\n${p.key}@${p.version}`);
    locked = { root: lockRoot, packages };
  }
  const hash = digest.digest("hex").slice(0, 20);
  const bundle: OpBundle = { module: file, hash, fileName: `${hash}.mjs`, contents, externals, ...(locked ? { locked } : {}) };
  {
    // Made with `cache: false` too: the next call may reuse it.
    const files = Object.keys(result.metafile.inputs).filter((i) => !i.includes(":") && i !== "<stdin>").map((i) => path.resolve(root, i));
    if (locked) files.push(path.join(locked.root, "package-lock.json"));
    const inputs = stampInputs(files);
    BUNDLE_MEMO.set(memoKey, { bundle, inputs });
    storeBundle(key, bundle, inputs);
  }
  return bundle;
}

