#!/usr/bin/env node
// Static Neo4j 5 check of every tracegraph query, with Neo4j's own Cypher semantic analysis
// (@neo4j-cypher/language-support). It catches syntax errors, undefined variables, and calls
// to functions or procedures that Neo4j 5 does not have (FalkorDB-only algo.*, db.idx.*, ...).
//
// Usage:
//   node lint.mjs [--python PATH] [--queries FILE.json] [--self-check] [--json]
// Without --queries it runs `PATH dump_queries.py` (PATH defaults to $PYTHON or python3) to get
// {name: text} with //#include fragments expanded. Exit code: 0 clean, 1 errors found,
// 2 the self-check failed (the linter no longer flags known-bad queries).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
    if (lint(q).errors.length === 0) problems.push(`known-bad query not flagged (${what}): ${q}`);
  }
  for (const [what, q] of Object.entries(KNOWN_GOOD)) {
    const { errors } = lint(q);
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

function main() {
  const report = { self_check: selfCheck(), checked: 0, errors: [], warnings: [] };
  if (!args.includes('--self-check')) {
    const queries = loadQueries();
    for (const [name, text] of Object.entries(queries)) {
      report.checked += 1;
      const { errors, warnings } = lint(text);
      const describe = (d) => ({
        query: name,
        line: d.range.start.line + 1,
        column: d.range.start.character + 1,
        message: d.message.split('\n')[0],
      });
      report.errors.push(...errors.map(describe));
      report.warnings.push(...warnings.map(describe));
    }
  }
  if (args.includes('--json')) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    for (const p of report.self_check) console.log(`SELF-CHECK FAILED: ${p}`);
    for (const e of report.errors) console.log(`ERROR ${e.query}:${e.line}:${e.column}: ${e.message}`);
    for (const w of report.warnings) console.log(`warning ${w.query}:${w.line}:${w.column}: ${w.message}`);
    console.log(`${report.checked} queries checked against Neo4j 5: ${report.errors.length} errors, ${report.warnings.length} warnings`);
  }
  process.exitCode = report.self_check.length ? 2 : report.errors.length ? 1 : 0;
}

main();
