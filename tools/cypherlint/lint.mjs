#!/usr/bin/env node
// Static Neo4j 5 check of every tracegraph query, with Neo4j's own Cypher semantic analysis
// (@neo4j-cypher/language-support). It catches syntax errors, undefined variables, and calls
// to functions or procedures that Neo4j 5 does not have (FalkorDB-only algo.*, db.idx.*, ...).
//
// Neo4j's analysis is slow (about 0.2-2 s a query, most of it fixed cost), so the script
//  * analyses each distinct query shape once: label and relationship-type names are replaced by
//    one placeholder (with no labels declared they cannot change the analysis), which folds the
//    families of generated per-label queries into one;
//  * spreads the shapes over worker threads (one per CPU, at most 4);
//  * remembers clean shapes in .cache.json (key: SHA-256 of package version + shape text), so a
//    re-run only analyses what changed. The key covers the exact text, so a cached entry is a
//    proof that this very shape passed; committing the file lets CI skip unchanged queries.
//    Errors are never cached; --no-cache ignores the file; the self-check never uses it.
//
// Usage:
//   node lint.mjs [--python PATH] [--queries FILE.json] [--self-check | --no-self-check] [--json] [--no-cache]
// --self-check only checks that known-bad queries are flagged; a full run does that first too.
// Without --queries it runs `PATH dump_queries.py` (PATH defaults to $PYTHON or python3) to get
// {name: text} with //#include fragments expanded. Exit code: 0 clean, 1 errors found,
// 2 the self-check failed (the linter no longer flags known-bad queries).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { lintCypherQuery, isNotParamError, testData } from '@neo4j-cypher/language-support';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

// Neo4j 5's built-in functions and procedures, as the language server ships them for a stock
// server. Plugins (APOC, GDS, GenAI) are removed: tracegraph's compose file installs none.
const PLUGIN = /^(apoc|gds|genai|ai)\./i;
function builtins(registry) {
  const out = {};
  for (const [version, entries] of Object.entries(registry)) {
    out[version] = Object.fromEntries(Object.entries(entries).filter(([name]) => !PLUGIN.test(name)));
  }
  return out;
}

export const NEO4J5_SCHEMA = {
  functions: builtins(testData.mockSchema.functions),
  procedures: builtins(testData.mockSchema.procedures),
  defaultLanguage: 'CYPHER 5',
};

// severity 1 = error, 2 = warning (LSP); parameters are not declared, so "Parameter $x is not
// defined" is filtered out: every query legitimately takes parameters.
export function lint(query) {
  const { diagnostics } = lintCypherQuery(query, NEO4J5_SCHEMA);
  const kept = diagnostics.filter(isNotParamError);
  return {
    errors: kept.filter((d) => d.severity === 1),
    warnings: kept.filter((d) => d.severity !== 1),
  };
}

const KNOWN_BAD = {
  'undefined variable': 'MATCH (n) RETURN m',
  'syntax error': 'MATCH (n RETURN n',
  'FalkorDB-only procedure': "MATCH (a {id: $a}) CALL algo.BFS(a, 3, 'CONSUMED_IN') YIELD nodes RETURN nodes",
  'FalkorDB-only index procedure': "CALL db.idx.fulltext.queryNodes('Serial', $q) YIELD node RETURN node",
  'APOC is not installed': 'RETURN apoc.text.join(["a"], ",") AS s',
};
const KNOWN_GOOD = {
  'variable-length path': 'MATCH (a:Batch {id: $id})-[:PRODUCED|SHIPPED_IN*1..5]->(x) RETURN DISTINCT x.id AS id',
  'pattern comprehension': 'MATCH (n:Serial) WHERE size([(n)-->(b) | 1]) > 0 RETURN n',
};

function selfCheck() {
  const problems = [];
  for (const [what, q] of Object.entries(KNOWN_BAD)) {
    if (lint(shape(q)).errors.length === 0) problems.push(`known-bad query not flagged (${what}): ${q}`);
  }
  for (const [what, q] of Object.entries(KNOWN_GOOD)) {
    const { errors } = lint(shape(q));
    if (errors.length) problems.push(`known-good query flagged (${what}): ${errors[0].message}`);
  }
  return problems;
}

function loadQueries() {
  const file = opt('--queries');
  if (file) return JSON.parse(readFileSync(file, 'utf8'));
  const python = opt('--python') || process.env.PYTHON || 'python3';
  const out = execFileSync(python, [join(here, 'dump_queries.py')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out);
}

// `(n:Batch`, `[r:PRODUCED|SHIPPED_IN*1..3]`, `(:A:B` -> `(n:L`, `[r:L*1..3]`, `(:L`;
// full-line comments become empty lines (line numbers stay right).
export function shape(query) {
  return query
    .replace(/^\s*\/\/.*$/gm, '')
    .replace(
      /([(\[]\s*(?:[A-Za-z_]\w*\s*)?):\s*(?:`[^`]+`|[A-Za-z_]\w*)(?:\s*[|&:]\s*:?\s*!?(?:`[^`]+`|[A-Za-z_]\w*))*/g,
      (_m, pre) => `${pre}:L`,
    );
}

function describe(name, d) {
  return {
    query: name,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    message: d.message.split('\n')[0],
  };
}

function lintShapes(shapes) {
  // -> [{key, errors, warnings}] with diagnostics reduced to plain objects
  return shapes.map(({ key, text }) => {
    const { errors, warnings } = lint(text);
    return { key, errors: errors.map((d) => describe('', d)), warnings: warnings.map((d) => describe('', d)) };
  });
}

async function lintParallel(shapes) {
  const workers = Math.max(1, Math.min(4, availableParallelism(), Math.ceil(shapes.length / 20)));
  if (workers === 1) return lintShapes(shapes);
  const chunks = Array.from({ length: workers }, (_, i) => shapes.filter((_s, j) => j % workers === i));
  const results = await Promise.all(
    chunks.map(
      (chunk) =>
        new Promise((resolve, reject) => {
          const w = new Worker(fileURLToPath(import.meta.url), { workerData: chunk, argv: [] });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  return results.flat();
}

async function main() {
  // the self-check costs a few seconds of analysis: skipped for ad-hoc --queries files and on request
  const skipSelfCheck = !args.includes('--self-check') && (args.includes('--no-self-check') || opt('--queries'));
  const report = {
    self_check: skipSelfCheck ? [] : selfCheck(),
    self_checked: !skipSelfCheck,
    checked: 0,
    shapes: 0,
    cached: 0,
    errors: [],
    warnings: [],
  };
  if (!args.includes('--self-check')) {
    const queries = loadQueries();
    const pkg = JSON.parse(
      readFileSync(join(here, 'node_modules', '@neo4j-cypher', 'language-support', 'package.json'), 'utf8'),
    ).version;
    const cacheFile = join(here, '.cache.json');
    const useCache = !args.includes('--no-cache') && !opt('--queries');
    const cache = useCache && existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {};
    const byKey = new Map(); // key -> {text, names}
    for (const [name, text] of Object.entries(queries)) {
      report.checked += 1;
      const s = shape(text);
      const key = createHash('sha256').update(`${pkg}\n${s}`).digest('hex');
      if (!byKey.has(key)) byKey.set(key, { key, text: s, names: [] });
      byKey.get(key).names.push(name);
    }
    report.shapes = byKey.size;
    const todo = [...byKey.values()].filter((v) => !cache[v.key]);
    report.cached = byKey.size - todo.length;
    for (const r of await lintParallel(todo.map(({ key, text }) => ({ key, text })))) {
      for (const name of byKey.get(r.key).names) {
        report.errors.push(...r.errors.map((e) => ({ ...e, query: name })));
        report.warnings.push(...r.warnings.map((e) => ({ ...e, query: name })));
      }
      if (!r.errors.length) cache[r.key] = true;
    }
    if (useCache) {
      // only the shapes of today's queries, sorted: the file is small and diffs stay readable
      const kept = Object.fromEntries([...byKey.keys()].filter((k) => cache[k]).sort().map((k) => [k, true]));
      writeFileSync(cacheFile, JSON.stringify(kept, null, 0).replaceAll(',', ',\n') + '\n');
    }
  }
  if (args.includes('--json')) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    for (const p of report.self_check) console.log(`SELF-CHECK FAILED: ${p}`);
    for (const e of report.errors) console.log(`ERROR ${e.query}:${e.line}:${e.column}: ${e.message}`);
    for (const w of report.warnings) console.log(`warning ${w.query}:${w.line}:${w.column}: ${w.message}`);
    console.log(
      `${report.checked} queries (${report.shapes} shapes, ${report.cached} cached) checked against Neo4j 5: ` +
        `${report.errors.length} errors, ${report.warnings.length} warnings`,
    );
  }
  process.exitCode = report.self_check.length ? 2 : report.errors.length ? 1 : 0;
}

if (isMainThread) {
  await main();
} else {
  parentPort.postMessage(lintShapes(workerData));
}
