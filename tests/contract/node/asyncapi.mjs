// Parses and validates an AsyncAPI document with the official @asyncapi/parser (Spectral rules
// included) and prints every diagnostic as one JSON line: {"severity", "code", "path", "message"}.
// Exit status 1 when any diagnostic is an error (severity 0), else 0.
//   node asyncapi.mjs ../../../schemas/asyncapi.json
import { Parser, fromFile } from "@asyncapi/parser";

const [path] = process.argv.slice(2);
const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, path).parse();
for (const d of diagnostics) {
  console.log(JSON.stringify({ severity: d.severity, code: d.code, path: d.path, message: d.message }));
}
const errors = diagnostics.filter((d) => d.severity === 0).length;
if (document === undefined || errors > 0) {
  console.error(`${path}: ${errors} error(s)`);
  process.exit(1);
}
