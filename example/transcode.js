'use strict';

// transcode simulates a long 4K transcode: one "frame" every delayMs, with a
// progress line per frame so that `asyncfn logs --tail` has something to show.
//
// Event: { "source": "input-4k.mov", "frames": 20, "delayMs": 500 }
// Result: { "output": "input-4k-1080p.mp4", "frames": 20 }
//
// With a COS source ("cos://media-1250000000/in/clip.mov") it reads the
// input from COS, probes it with the media-tools layer's `probe` (on PATH:
// SCF puts a layer's bin/ there, and so does the emulator), and writes a
// manifest of the output next to OUTPUT_PREFIX when that is a cos:// URI.
// On the emulator, ASYNCFN_COS_PROXY (which it sets) points cos.js at its
// COS front.

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cos = require('./cos');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function intOr(value, fallback, min) {
  const n = Number(value);
  return Number.isInteger(n) && n >= min ? n : fallback;
}

exports.main_handler = async (event, context) => {
  event = event && typeof event === 'object' ? event : {};
  context = context || {};
  const frames = intOr(event.frames, 20, 1);
  const delayMs = intOr(event.delayMs, 500, 0);
  const source = typeof event.source === 'string' && event.source ? event.source : 'input-4k.mov';
  // OUTPUT_PREFIX comes from the function's environment in serverless.yml.
  const name = source.replace(/^.*\//, '').replace(/\.[^.]*$/, '');
  const output = `${process.env.OUTPUT_PREFIX || ''}${name}-1080p.mp4`;
  const requestId = context.request_id || context.awsRequestId || '-';

  let done = 0;
  // Terminate with a grace period sends SIGTERM first: record where we got
  // to, so that a later run could resume, then exit. The write callback makes
  // sure the line is flushed before the process goes away.
  const onSigterm = () => {
    console.log(`transcode: SIGTERM received, saving checkpoint at frame ${done}`);
    process.stdout.write('', () => process.exit(143)); // 128 + SIGTERM
  };
  process.on('SIGTERM', onSigterm);
  try {
    console.log(`transcode: ${source} -> ${output}, ${frames} frames, ${delayMs} ms each (request ${requestId})`);
    let probe = null;
    if (source.startsWith('cos://')) {
      const input = await cos.getObject(source);
      const local = path.join(os.tmpdir(), path.basename(source));
      fs.writeFileSync(local, input);
      probe = JSON.parse(execFileSync('probe', [local]).toString());
      fs.unlinkSync(local);
      console.log(`transcode: probed ${source}: ${probe.bytes} bytes, sha256 ${probe.sha256}`);
    }
    while (done < frames) {
      await sleep(delayMs);
      done++;
      console.log(`transcode: frame ${done}/${frames} (${Math.floor((done * 100) / frames)}%)`);
    }
    if (probe && output.startsWith('cos://')) {
      const manifest = JSON.stringify({ source, frames: done, input: probe, requestId });
      await cos.putObject(output.replace(/\.mp4$/, '.json'), manifest);
    }
    console.log(`transcode: done, wrote ${output}`);
    return probe ? { output, frames: done, input: probe } : { output, frames: done };
  } finally {
    // Warm instances run many events: do not pile up handlers.
    process.removeListener('SIGTERM', onSigterm);
  }
};
