// Plain JavaScript on purpose: it must give a clear answer even on an old Node that cannot
// run TypeScript. npm scripts find Node 24 in node_modules/.bin, put there by the `node` dev dependency.
const major = Number(process.versions.node.split('.')[0])
if (major !== 24) {
  console.error(
    `Sluice needs Node 24 but this is Node ${process.versions.node} (${process.execPath}).\n` +
      'Run it through npm (`npm test`, `npm run demo`), which puts node_modules/.bin first on PATH, after `npm install`.',
  )
  process.exit(1)
}
