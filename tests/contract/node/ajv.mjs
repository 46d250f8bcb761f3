// Compiles JSON Schemas with Ajv (draft 2020-12, strict mode, ajv-formats): every .json file of
// each folder given, and each file given. Then validates instances against the schema whose $id
// each names. Instances come on stdin, one JSON object a line:
//   {"schema": "<$id>", "label": "<where it came from>", "data": <the instance>}
// Prints one line per compiled schema and per instance, and each error; exit 1 on any error.
//   node ajv.mjs ../../../schemas/events more-schema.json < instances.jsonl
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
const files = [];
for (const path of process.argv.slice(2)) {
  if ((await stat(path)).isDirectory()) {
    const names = (await readdir(path)).filter((n) => n.endsWith(".json")).sort();
    files.push(...names.map((n) => join(path, n)));
  } else {
    files.push(path);
  }
}
let failures = 0;
// Every schema added before any is compiled: one may refer to another that sorts after it
// (the sealed events' schemas to SealedField's).
const added = [];
for (const name of files) {
  const schema = JSON.parse(await readFile(name, "utf8"));
  try {
    ajv.addSchema(schema);
    added.push([name, schema.$id]);
  } catch (error) {
    failures += 1;
    console.log(`schema ${name}: ${error.message}`);
  }
}
for (const [name, id] of added) {
  try {
    ajv.getSchema(id); // compiles it now, so a schema strict mode refuses fails here
    console.log(`compiled ${name} (${id})`);
  } catch (error) {
    failures += 1;
    console.log(`schema ${name}: ${error.message}`);
  }
}
const input = await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
});
for (const line of input.split("\n").filter((l) => l.trim())) {
  const { schema, label, data } = JSON.parse(line);
  const validate = ajv.getSchema(schema);
  if (validate === undefined) {
    failures += 1;
    console.log(`${label}: no schema with $id ${schema}`);
  } else if (validate(data)) {
    console.log(`valid ${label}`);
  } else {
    failures += 1;
    console.log(`${label}: ${ajv.errorsText(validate.errors)}`);
  }
}
if (failures > 0) {
  console.error(`${failures} failure(s)`);
  process.exit(1);
}
