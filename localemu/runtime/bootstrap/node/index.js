// asyncfn Node.js bootstrap: runs a handler "path/file.func" from
// LAMBDA_TASK_ROOT through the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API.
// Standard library only. Supports plain return, callback(err, result),
// Promise/async handlers, CommonJS and ES modules (.mjs or "type": "module").
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const api = process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001';
const sep = api.lastIndexOf(':');
const host = api.slice(0, sep);
const port = Number(api.slice(sep + 1));
const base = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// Node queues writes to a pipe in user space when the pipe is full: a handler
// that prints fast can return with megabytes still queued. What it printed
// belongs to its invocation, so every answer waits until stdout and stderr
// have handed everything to the pipe (the emulator reads the pipe before it
// ends the invocation).
function drained(stream) {
  if (!stream || !stream.writableLength || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    // The callback of a write runs once everything queued before it is written.
    try { stream.write('', () => resolve()); } catch (_) { resolve(); }
  });
}

function flushOutput() {
  return Promise.all([drained(process.stdout), drained(process.stderr)]);
}

async function call(method, p, body, headers) {
  if (method === 'POST') await flushOutput();
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const h = Object.assign({}, headers || {});
    if (data) h['Content-Length'] = data.length;
    const req = http.request({ host, port, path: base + p, method, headers: h, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

function toError(err, fallbackType) {
  if (err instanceof Error) {
    return {
      errorType: err.name || fallbackType || 'Error',
      errorMessage: err.message,
      stackTrace: String(err.stack || '').split('\n').slice(1).map((s) => s.trim()).filter(Boolean),
    };
  }
  if (err && typeof err === 'object') {
    return { errorType: err.errorType || err.name || fallbackType || 'Error', errorMessage: err.errorMessage || err.message || JSON.stringify(err), stackTrace: [] };
  }
  return { errorType: typeof err === 'string' ? 'string' : (fallbackType || 'Error'), errorMessage: String(err), stackTrace: [] };
}

function postError(p, e) {
  process.stderr.write(`ERROR\t${e.errorType}: ${e.errorMessage}\n${(e.stackTrace || []).map((s) => '    ' + s).join('\n')}\n`);
  return call('POST', p, JSON.stringify(e), {
    'Content-Type': 'application/json',
    'Lambda-Runtime-Function-Error-Type': e.errorType,
  });
}

async function initError(e) {
  try { await postError('/init/error', e); } catch (_) { /* the emulator sees the exit */ }
  process.exit(1);
}

async function loadHandler() {
  const handler = process.env._HANDLER || '';
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) {
    throw Object.assign(new Error(`Bad handler ${handler}: expected "path/file.function"`), { name: 'Runtime.MalformedHandlerName' });
  }
  const modPath = handler.slice(0, dot);
  const fnName = handler.slice(dot + 1);
  const stem = path.resolve(root, modPath);
  let file = null;
  for (const ext of ['.js', '.mjs', '.cjs', '']) {
    try {
      if (fs.statSync(stem + ext).isFile()) { file = stem + ext; break; }
    } catch (_) { /* try the next */ }
  }
  if (file === null) {
    throw Object.assign(new Error(`Cannot find module '${modPath}'`), { name: 'Runtime.ImportModuleError' });
  }
  let mod;
  try {
    if (file.endsWith('.mjs')) {
      mod = await import(pathToFileURL(file).href);
    } else {
      try {
        mod = require(file);
      } catch (e) {
        if (e && e.code === 'ERR_REQUIRE_ESM') mod = await import(pathToFileURL(file).href);
        else throw e;
      }
    }
  } catch (e) {
    if (e instanceof SyntaxError) {
      const se = new Error(`${e.name}: ${e.message}`);
      se.name = 'Runtime.UserCodeSyntaxError';
      se.stack = `${se.name}: ${se.message}\n` + String(e.stack || '').split('\n').slice(0, 5).join('\n');
      throw se;
    }
    if (e && e.code === 'MODULE_NOT_FOUND') {
      e.name = 'Runtime.ImportModuleError';
    }
    throw e;
  }
  let fn = mod ? mod[fnName] : undefined;
  if (fn === undefined && mod && mod.default) fn = mod.default[fnName];
  if (typeof fn !== 'function') {
    throw Object.assign(new Error(`${modPath}.${fnName} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  }
  return fn;
}

function makeContext(headers, resolve) {
  const id = headers['lambda-runtime-aws-request-id'];
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  const env = process.env;
  const memory = env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
  return {
    awsRequestId: id,
    requestId: id,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: memory,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: (err, result) => resolve(err, result),
    succeed: (result) => resolve(null, result),
    fail: (err) => resolve(err == null ? new Error('failed') : err),
    // SCF's names for the same facts
    request_id: id,
    function_name: env.SCF_FUNCTIONNAME,
    function_version: env.SCF_FUNCTIONVERSION,
    namespace: env.SCF_NAMESPACE,
    memory_limit_in_mb: Number(memory),
    time_limit_in_ms: Number(headers['time_limit_in_ms']) || undefined,
    tencentcloud_region: env.TENCENTCLOUD_REGION,
  };
}

let inflight = null; // request id of the running invocation
let initialized = false;
let pending = null; // { finish, isAsync } while the handler has not answered

// The event loop emptied while the handler had not answered. Like Lambda's
// Node.js runtime (callbackWaitsForEmptyEventLoop is true by default): a
// callback or plain handler that never calls back succeeds with null; an async
// handler whose promise never settles fails (Lambda's Runtime.NodeJsExit).
process.on('beforeExit', () => {
  const p = pending;
  if (!p) return;
  pending = null;
  if (p.isAsync) {
    p.finish(Object.assign(new Error('the event loop emptied before the async handler\'s promise settled'), { name: 'Runtime.NodeJsExit' }));
  } else {
    p.finish(null, null);
  }
});

function run(fn, event, headers) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err, result) => {
      if (settled) return;
      settled = true;
      pending = null;
      if (err !== null && err !== undefined) reject(err);
      else resolve(result);
    };
    pending = { finish, isAsync: !!fn.constructor && fn.constructor.name === 'AsyncFunction' };
    const context = makeContext(headers, finish);
    let r;
    try {
      r = fn(event, context, finish);
    } catch (e) {
      finish(e);
      return;
    }
    if (r && typeof r.then === 'function') {
      r.then((v) => finish(null, v), (e) => finish(e === undefined || e === null ? new Error('Promise rejected') : e));
    } else if (fn.length < 3) {
      finish(null, r); // a plain synchronous handler: its return value is the result
    }
    // otherwise a callback-style handler: wait for the callback
  });
}

async function main() {
  let fn;
  try {
    fn = await loadHandler();
  } catch (e) {
    await initError(toError(e));
    return;
  }
  initialized = true;
  for (;;) {
    const next = await call('GET', '/invocation/next');
    if (next.status !== 200) throw new Error(`runtime API /next answered ${next.status}`);
    const id = next.headers['lambda-runtime-aws-request-id'];
    inflight = id;
    let event;
    try {
      const text = next.body.toString('utf8');
      event = text.length ? JSON.parse(text) : {};
    } catch (e) {
      await postError(`/invocation/${id}/error`, { errorType: 'Runtime.UnmarshalError', errorMessage: `Unable to parse the event: ${e.message}`, stackTrace: [] });
      inflight = null;
      continue;
    }
    let body;
    try {
      const result = await run(fn, event, next.headers);
      try {
        body = JSON.stringify(result === undefined ? null : result);
      } catch (e) {
        throw Object.assign(new Error(`Unable to stringify the response: ${e.message}`), { name: 'Runtime.MarshalError' });
      }
    } catch (e) {
      inflight = null;
      await postError(`/invocation/${id}/error`, toError(e));
      continue;
    }
    inflight = null;
    await call('POST', `/invocation/${id}/response`, body, { 'Content-Type': 'application/json' });
  }
}

// An exception escaping the handler's own flow fails the invocation in flight
// and ends the process, as on Lambda.
process.on('uncaughtException', (e) => {
  const err = toError(e);
  const id = inflight;
  inflight = null;
  let p;
  if (id) p = postError(`/invocation/${id}/error`, err);
  else if (!initialized) p = postError('/init/error', err);
  else {
    process.stderr.write(`ERROR\t${err.errorType}: ${err.errorMessage}\n`);
    p = flushOutput();
  }
  p.catch(() => {}).finally(() => process.exit(1));
});

main().catch((e) => {
  process.stderr.write(`asyncfn bootstrap: ${e && e.stack ? e.stack : e}\n`);
  flushOutput().finally(() => process.exit(1));
});
