'use strict';

// Running the binary: the Framework's resolved configuration goes in on
// stdin (--resolved-config -), so secrets resolved by other plugins never
// touch the disk; stdout and stderr are the user's.

const { spawn } = require('node:child_process');

// runBinary runs bin with args, writing config to its stdin. With capture,
// stdout is collected and returned instead of shown. It resolves with
// { code, stdout }.
function runBinary(bin, args, config, { capture = false, env = process.env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', capture ? 'pipe' : 'inherit', 'inherit'], env });
    let stdout = '';
    if (capture) {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
    }
    child.on('error', (err) => reject(new Error(`could not run ${bin}: ${err.message}`)));
    child.on('close', (code, signal) => resolve({ code: code == null ? 128 + (signal === 'SIGINT' ? 2 : 15) : code, stdout }));
    // The binary reads stdin only when it loads the configuration; a
    // command that fails before then closes it early, which is no error.
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(config));
  });
}

module.exports = { runBinary };
