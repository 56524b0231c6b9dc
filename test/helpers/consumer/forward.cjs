// The fixture case through `require('torchrnn')`; prints what the test compares.
'use strict';
const torchrnn = require('torchrnn');
const { runCase, loadedBinary, readCase } = require('./run_case.cjs');

const results = runCase(torchrnn, readCase());
process.stdout.write(JSON.stringify({ ...loadedBinary(), results }));
