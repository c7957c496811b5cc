'use strict';

// Finding the asyncfn binary: ASYNCFN_BIN, else asyncfn on PATH, else a
// binary shipped with the package. A shipped binary is looked for first in a
// per-platform package (@asyncfn/cli-<platform>-<arch>, as esbuild ships
// its binaries: the release adds them as optionalDependencies of this
// package, and npm installs only the one for the machine), then in this
// package's own bin/. Neither needs a change to users' files when added.

const fs = require('node:fs');
const path = require('node:path');

const exe = process.platform === 'win32' ? 'asyncfn.exe' : 'asyncfn';

function isExecutable(file) {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    if (process.platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// platformPackage is the per-platform package's name for this machine.
function platformPackage(platform = process.platform, arch = process.arch) {
  return `@asyncfn/cli-${platform}-${arch}`;
}

// shipped lists where a binary shipped with the package may be, in order.
function shipped(resolve = require.resolve) {
  const places = [];
  try {
    places.push(path.join(path.dirname(resolve(`${platformPackage()}/package.json`)), 'bin', exe));
  } catch {
    // The per-platform package is not installed (or not published yet).
  }
  places.push(path.join(__dirname, '..', 'bin', exe));
  return places;
}

// findBinary returns the path of the asyncfn binary, or throws one error
// that names all three ways to provide it.
function findBinary({ env = process.env, resolve = require.resolve } = {}) {
  if (env.ASYNCFN_BIN) {
    if (isExecutable(env.ASYNCFN_BIN)) return env.ASYNCFN_BIN;
    throw new Error(`ASYNCFN_BIN is ${env.ASYNCFN_BIN}, which is not an executable file`);
  }
  for (const dir of (env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, exe);
    if (isExecutable(candidate)) return candidate;
  }
  const places = shipped(resolve);
  for (const candidate of places) {
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(
    'the asyncfn binary was not found. Provide it in one of three ways: ' +
      'set ASYNCFN_BIN to its path; put asyncfn on PATH (go build -o asyncfn . in the asyncfn repository, ' +
      'or download a release); or install a serverless-asyncfn that ships one ' +
      `(${platformPackage()}, or ${places[places.length - 1]})`
  );
}

module.exports = { findBinary, platformPackage };
