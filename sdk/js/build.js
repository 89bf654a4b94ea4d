#!/usr/bin/env node
// Builds a pricing plugin module into a component with componentize-js:
//
//   node sdk/js/build.js PLUGIN.js -o PLUGIN.wasm
//
// PLUGIN.js default-exports a `Plugin` subclass. The entry module written next to it
// imports the host's `log`, instantiates the plugin and exports `price`; only the WASI 0.2
// interfaces the host links are imported (`http` and `fetch-event` are left out).
// (componentize-js 0.23 loads `@bytecodealliance/preview2-shim` without declaring it: the
// kit's package.json depends on it.)

import { existsSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { componentize } from '@bytecodealliance/componentize-js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outAt = args.indexOf('-o');
if (args.length !== 3 || outAt !== 1) {
  console.error('usage: build.js PLUGIN.js -o PLUGIN.wasm');
  process.exit(2);
}
const source = resolve(args[0]);
const out = resolve(args[2]);
const entry = join(dirname(source), `.${basename(source, '.js')}.component.js`);
// The kit the plugin imports: the project's own copy (`winfactor plugin new`), else this one.
let sdk = existsSync(join(dirname(source), 'winfactor', 'index.js'))
  ? './winfactor/index.js'
  : relative(dirname(source), join(here, 'src', 'index.js')).split('\\').join('/');
if (!sdk.startsWith('.')) sdk = `./${sdk}`;

await writeFile(
  entry,
  `import { log } from 'winfactor:pricing/log@1.0.0';
import { component, useHostLog } from '${sdk}';
import Plugin from './${basename(source)}';

useHostLog(log);
export const price = component(new Plugin());
`,
);
// componentize-js reads the modules through the working directory (never `/`): the
// directory holding both the plugin and the kit, else the plugin's own (a project made by
// `winfactor plugin new` carries a copy of the kit).
const common = (a, b) => {
  const [x, y] = [a.split('/'), b.split('/')];
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n]) n += 1;
  return x.slice(0, n).join('/');
};
process.chdir(common(dirname(source), here) || dirname(source));
try {
  const { component } = await componentize({
    sourcePath: entry,
    witPath: resolve(here, '../../wit'),
    worldName: 'pricing-plugin',
    disableFeatures: ['http', 'fetch-event'],
  });
  await writeFile(out, component);
  console.log(`${out}: ${component.length} bytes`);
} finally {
  await unlink(entry).catch(() => {});
}
