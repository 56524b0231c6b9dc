// What generate.py saved beside each example (the checkpoint, the inputs and PyTorch's outputs), and the
// comparison an example prints when run: its outputs against PyTorch's, within the float tolerances the
// tests use, and integer outputs (generated tokens, tags) exactly.
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = new URL('.', import.meta.url);

/** The path of `<name>.pt`, the checkpoint dict {model, optimizer, epoch} a training loop saved. */
export function checkpointPath(name) {
  return fileURLToPath(new URL(`${name}.pt`, HERE));
}

/** `<name>.json`: the fixed inputs and what PyTorch computed from them, as nested lists. */
export function readRecord(name) {
  return JSON.parse(readFileSync(new URL(`${name}.json`, HERE), 'utf8'));
}

/** True when the module at `moduleUrl` is the script node was asked to run, not an import. */
export function isMain(moduleUrl) {
  return process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === moduleUrl;
}

// float32: 1e-5 absolute + 1e-4 relative; float64: 1e-10 absolute + 1e-10 relative.
const TOLERANCE = { float32: [1e-5, 1e-4], float64: [1e-10, 1e-10] };

/**
 * Prints, for each output, how far it is from PyTorch's, and returns whether every one is within tolerance
 * (integer outputs must be identical).
 */
export function reportAgainstPyTorch(outputs, expected) {
  let allMatch = true;
  for (const [name, actual] of Object.entries(outputs)) {
    const want = [expected[name]].flat(Infinity);
    const got = Array.from(actual.data, Number);
    let line;
    let match = got.length === want.length;
    if (!(actual.dtype in TOLERANCE)) {
      match &&= got.every((v, i) => v === want[i]);
      line = match ? 'identical to PyTorch' : 'DIFFERENT from PyTorch';
    } else {
      const [atol, rtol] = TOLERANCE[actual.dtype];
      let largest = 0;
      got.forEach((v, i) => {
        const difference = Math.abs(v - want[i]);
        largest = Math.max(largest, difference);
        if (!(difference <= atol + rtol * Math.abs(want[i]))) match = false;
      });
      line = `largest difference from PyTorch ${largest.toExponential(1)} (${actual.dtype})`;
    }
    console.log(`  ${name} [${actual.shape.join(', ')}]: ${line}`);
    allMatch &&= match;
  }
  console.log(allMatch ? 'matches PyTorch' : 'DIFFERS from PyTorch');
  return allMatch;
}
