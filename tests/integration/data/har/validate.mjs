// validate.mjs - validates HAR files against the HAR 1.2 JSON schema with the npm package
// har-validator. Usage: node validate.mjs FILE... (install first: npm ci in this directory).
// Prints "ok FILE" or the schema errors of each file; exits 1 when any file is invalid.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const validator = require('har-validator');

let bad = 0;
for (const file of process.argv.slice(2)) {
  try {
    let text = readFileSync(file, 'utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark
    await validator.har(JSON.parse(text));
    console.log(`ok ${file}`);
  } catch (e) {
    bad++;
    console.log(`INVALID ${file}: ${e.message}`);
    for (const err of e.errors || []) console.log(`  ${err.dataPath || err.instancePath} ${err.message}`);
  }
}
process.exit(bad ? 1 : 0);
