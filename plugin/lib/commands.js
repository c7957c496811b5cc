'use strict';

// The Framework's commands and options, and the asyncfn command line each
// maps to. Only mapping lives here: what a command does, and what its
// options mean, is the binary's.

// passThrough are the options every command hands to the binary as its
// global flags (--stage and --param are the Framework's own options).
const passThrough = {
  region: { usage: 'Region of the service', shortcut: 'r', type: 'string' },
  output: { usage: 'Output format: text or json', shortcut: 'o', type: 'string' },
  endpoint: { usage: 'Send API calls to URL instead of the cloud (or ASYNCFN_ENDPOINT)', type: 'string' },
  local: { usage: 'Use the local emulator (ASYNCFN_LOCAL_URL, default http://127.0.0.1:9770)', type: 'boolean' },
};

const fn = { usage: 'Function name (under functions:)', shortcut: 'f', type: 'string', required: true };
const requestId = { usage: 'RequestId of the event', type: 'string', required: true };

// asyncCommands are `serverless async ...`: each has the asyncfn words it
// runs, its options (flag: the binary's flag, when it differs; positional:
// passed as the argument after the words), and how long it may run.
const asyncCommands = {
  invoke: {
    usage: 'Invoke a function asynchronously and print only its RequestId',
    words: ['invoke', '--async'],
    options: {
      function: fn,
      data: { usage: 'Event payload as JSON', shortcut: 'd', type: 'string' },
      path: { usage: 'Read the payload from FILE', shortcut: 'p', type: 'string' },
      qualifier: { usage: 'Version or alias', type: 'string' },
      'durable-name': { usage: 'Idempotent start: the event with this name is returned instead of a new one', type: 'string' },
    },
  },
  logs: {
    usage: "Print a function's logs, or one event's (--request-id); --tail follows them",
    words: ['logs'],
    options: {
      function: fn,
      'request-id': { usage: "Only this event's lines (with --tail: ends when the event ends)", type: 'string' },
      tail: { usage: 'Follow the log live', shortcut: 't', type: 'boolean' },
      since: { usage: 'Start this long ago (e.g. 10m)', type: 'string' },
      filter: { usage: 'Only lines containing TEXT', type: 'string' },
    },
  },
  events: {
    usage: "A function's async events: list, get, terminate, stats",
    commands: {
      list: {
        usage: 'List events',
        words: ['events', 'list'],
        options: {
          function: fn,
          status: { usage: 'Only these statuses (comma-separated)', type: 'string' },
          since: { usage: 'Created within this long (e.g. 1h)', type: 'string' },
          limit: { usage: 'At most N events', type: 'string' },
          offset: { usage: 'Skip N events', type: 'string' },
          order: { usage: 'asc or desc', type: 'string' },
        },
      },
      get: {
        usage: 'Show one event',
        words: ['events', 'get'],
        options: { function: fn, 'request-id': { ...requestId, positional: true } },
      },
      terminate: {
        usage: 'Stop an event (SIGTERM, SIGKILL after --grace)',
        words: ['events', 'terminate'],
        options: {
          'function': fn,
          'request-id': { ...requestId, positional: true },
          'grace': { usage: 'Grace period before SIGKILL (e.g. 10s)', type: 'string' },
        },
      },
      stats: {
        usage: 'Counts per status and p50/p95/max duration',
        words: ['events', 'stats'],
        options: { function: fn, since: { usage: 'Events created within this long', type: 'string' } },
      },
    },
  },
  dev: {
    usage: 'Start the emulator, deploy the service to it and follow all logs (Ctrl-C stops)',
    words: ['dev'],
    options: {
      'invoke': { usage: 'After deploying, invoke FUNCTION asynchronously', type: 'string' },
      'data': { usage: 'Payload JSON for --invoke', shortcut: 'd', type: 'string' },
      'exit': { usage: 'With --invoke: stop once that event has finished', type: 'boolean' },
      'addr': { usage: 'Emulator address (default 127.0.0.1:9770)', type: 'string' },
      'state-dir': { usage: "Emulator's state directory (default .asyncfn)", type: 'string' },
      'max-concurrency': { usage: 'Events running at once', type: 'string' },
    },
  },
};

// tencentCommands map the Framework's own commands onto the binary for
// provider: tencent, where this plugin is the provider. extra are the
// options the plugin adds to the Framework's command.
const tencentCommands = {
  'deploy': {
    words: ['deploy'],
    options: {},
  },
  'deploy:function': {
    words: ['deploy'],
    options: { function: { flag: 'function' } },
  },
  'remove': { words: ['remove'], options: {} },
  'invoke': {
    words: ['invoke'],
    options: {
      function: {},
      data: {},
      path: {},
      qualifier: {},
      log: {},
      // --type Event is an async invoke; RequestResponse (the default) waits.
      type: { map: (value) => (String(value).toLowerCase() === 'event' ? ['--async'] : []) },
    },
  },
  'logs': {
    words: ['logs'],
    options: {
      function: {},
      tail: {},
      filter: {},
      startTime: { flag: 'since' },
      interval: { map: (value) => ['--poll-interval', `${value}ms`] },
    },
  },
  'info': { words: ['info'], options: {} },
};

// frameworkCommands turns asyncCommands into the Framework's command
// declarations (lifecycle event "run" on each leaf), each with passThrough.
function frameworkCommands(table) {
  const out = {};
  for (const [name, def] of Object.entries(table)) {
    if (def.commands) {
      out[name] = { usage: def.usage, commands: frameworkCommands(def.commands) };
      continue;
    }
    const options = {};
    for (const [opt, schema] of Object.entries(def.options)) {
      const { positional, flag, map, ...declared } = schema;
      options[opt] = declared;
    }
    out[name] = { usage: def.usage, lifecycleEvents: ['run'], options: { ...options, ...passThrough } };
  }
  return out;
}

// leaves lists [path, def] for every runnable command of table.
function leaves(table, prefix = []) {
  const out = [];
  for (const [name, def] of Object.entries(table)) {
    if (def.commands) out.push(...leaves(def.commands, [...prefix, name]));
    else out.push([[...prefix, name], def]);
  }
  return out;
}

// globalArgs are the binary's global flags from the Framework's options.
function globalArgs(options, configFile) {
  const args = ['--resolved-config', '-'];
  if (configFile) args.push('-c', configFile);
  if (options.stage) args.push('--stage', String(options.stage));
  if (options.region) args.push('--region', String(options.region));
  const params = options.param == null ? [] : [].concat(options.param);
  for (const p of params) args.push('--param', String(p));
  if (options.output) args.push('--output', String(options.output));
  if (options.endpoint) args.push('--endpoint', String(options.endpoint));
  if (options.local) args.push('--local');
  return args;
}

// commandArgs are the words and flags of one mapped command. Boolean
// options become a bare flag, the rest --flag value; positional ones come last.
function commandArgs(def, options) {
  const args = [...def.words];
  const positional = [];
  for (const [opt, schema] of Object.entries(def.options)) {
    const value = options[opt];
    if (value == null || value === false) continue;
    if (schema.map) {
      args.push(...schema.map(value));
    } else if (schema.positional) {
      positional.push(String(value));
    } else if (value === true) {
      args.push(`--${schema.flag || opt}`);
    } else {
      args.push(`--${schema.flag || opt}`, String(value));
    }
  }
  return [...args, ...positional];
}

module.exports = { passThrough, asyncCommands, tencentCommands, frameworkCommands, leaves, globalArgs, commandArgs };
