#!/usr/bin/env node
// sqlcheck: parses SQL files with a real Trino grammar (dt-sql-parser's
// TrinoSQL) and reports every syntax error as FILE:LINE:COLUMN: MESSAGE.
//
//   npm ci --prefix tools/sqlcheck          # once
//   node tools/sqlcheck/sqlcheck.mjs FILE.sql...
//
// Prints "FILE: OK (N statements)" for a file without errors; N is the
// number of statements the grammar found (it accepts statements that are not
// separated by ";", so a caller that knows how many to expect can check).
// Exits 0 when every file parses, 1 when any has a syntax error, 2 on a usage
// or read error.
import { readFile } from "node:fs/promises";
import { register } from "node:module";

register("./resolve-hook.mjs", import.meta.url);
// Only the Trino parser: the package's main entry also loads seven other
// dialects' parsers (about 18 MB of JavaScript), which triples start-up time.
// package.json pins dt-sql-parser exactly, so this path is stable.
const { TrinoSQL } = await import("dt-sql-parser/dist/parser/trino/index.js");

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node sqlcheck.mjs FILE.sql...");
  process.exit(2);
}

const trino = new TrinoSQL();
let failed = 0;
let unreadable = 0;
for (const file of files) {
  let sql;
  try {
    sql = await readFile(file, "utf8");
  } catch (err) {
    console.log(`${file}: cannot read: ${err.message}`);
    unreadable++;
    continue;
  }
  // antlr4's default console listener prints some of the errors that
  // validate() returns as "line L:C ..." without the file name: silence it.
  const consoleError = console.error;
  console.error = () => {};
  let errors;
  try {
    errors = trino.validate(sql);
  } finally {
    console.error = consoleError;
  }
  if (errors.length === 0) {
    const statements = trino.splitSQLByStatement(sql)?.length ?? 0;
    console.log(`${file}: OK (${statements} statement${statements === 1 ? "" : "s"})`);
    continue;
  }
  failed++;
  for (const e of errors) {
    console.log(`${file}:${e.startLine}:${e.startColumn}: ${e.message}`);
  }
}
const ok = files.length - failed - unreadable;
console.log(`sqlcheck: ${ok} of ${files.length} files parse as Trino SQL`);
process.exit(unreadable > 0 ? 2 : failed > 0 ? 1 : 0);
