// A module-resolve hook for dt-sql-parser's ESM build, whose relative imports
// leave off the file extension ("./parser", "./common/basicSQL"). Node's ESM
// loader refuses such specifiers, so a relative specifier that fails to
// resolve is retried as "<specifier>.js" and then "<specifier>/index.js".
// dt-sql-parser's package.json does not say "type": "module", so its files
// are also declared ES modules here (Node 20 before 20.19 would otherwise
// load them as CommonJS).
//
// Registered by sqlcheck.mjs with module.register (Node >= 20.6).

const isRelative = (s) => s.startsWith("./") || s.startsWith("../");
const isDtSqlParser = (url) => url.includes("/node_modules/dt-sql-parser/");

function withFormat(result) {
  if (result.url.startsWith("file:") && isDtSqlParser(result.url) && result.url.endsWith(".js")) {
    return { ...result, format: "module" };
  }
  return result;
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return withFormat(await nextResolve(specifier, context));
  } catch (err) {
    if (!isRelative(specifier) || /\.[cm]?js$/.test(specifier)) {
      throw err;
    }
    for (const suffix of [".js", "/index.js"]) {
      try {
        return withFormat(await nextResolve(specifier + suffix, context));
      } catch {
        // try the next suffix
      }
    }
    throw err;
  }
}
