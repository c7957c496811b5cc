'use strict';

// transcode: the same simulated transcode as ../transcode.js (an AWS service
// packages its own directory only, so it cannot share that file).
// notify: the destination of transcode; logs the record Lambda sends.

const { execFileSync } = require('child_process');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// probe comes from the media-tools layer: Lambda unpacks layers to /opt and
// puts /opt/bin on PATH; the emulator does the same with its own directory.
// Deployed without the layer (this file alone, say), the transcode says so
// and goes on without a probe.
const probe = (file) => {
  try {
    return JSON.parse(execFileSync('probe', [file]).toString());
  } catch (err) {
    console.log(`transcode: no probe (${err.code || err.message}): deploy with the media-tools layer`);
    return null;
  }
};

exports.transcode = async (event, context) => {
  event = event && typeof event === 'object' ? event : {};
  const frames = Number.isInteger(event.frames) && event.frames > 0 ? event.frames : 20;
  const delayMs = Number.isInteger(event.delayMs) && event.delayMs >= 0 ? event.delayMs : 500;
  if (event.fail) throw new Error(`source file not found: ${event.fail}`);
  const source = probe(__filename); // the real thing would probe its input video
  if (source) console.log(`transcode: probed ${source.file}: ${source.bytes} bytes`);

  let done = 0;
  const onSigterm = () => {
    console.log(`transcode: SIGTERM received, saving checkpoint at frame ${done}`);
    process.stdout.write('', () => process.exit(143));
  };
  process.on('SIGTERM', onSigterm);
  try {
    while (done < frames) {
      await sleep(delayMs);
      done++;
      console.log(`transcode: frame ${done}/${frames} (${Math.floor((done * 100) / frames)}%)`);
    }
    return { output: 'output-1080p.mp4', frames: done, source };
  } finally {
    process.removeListener('SIGTERM', onSigterm);
  }
};

// A destination record looks like
// { version, timestamp, requestContext: { requestId, functionArn, condition,
//   approximateInvokeCount }, requestPayload, responseContext, responsePayload }.
exports.notify = async (record) => {
  const rc = (record && record.requestContext) || {};
  console.log(`notify: ${rc.condition || 'unknown'} for request ${rc.requestId || '-'} after ${rc.approximateInvokeCount || '?'} attempt(s)`);
  console.log(`notify: record ${JSON.stringify(record)}`);
  return { received: true };
};
