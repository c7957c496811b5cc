'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { asyncCommands, tencentCommands, frameworkCommands, globalArgs, commandArgs } = require('../lib/commands');
const { findBinary } = require('../lib/binary');

test('every async command declares its options with a type, and the pass-through ones', () => {
  const walk = (cmds) => {
    for (const [name, c] of Object.entries(cmds)) {
      if (c.commands) { walk(c.commands); continue; }
      assert.deepStrictEqual(c.lifecycleEvents, ['run'], name);
      for (const opt of ['region', 'output', 'endpoint', 'local']) assert.ok(c.options[opt], `${name} --${opt}`);
      for (const [opt, s] of Object.entries(c.options)) {
        assert.ok(['string', 'boolean', 'multiple'].includes(s.type), `${name} --${opt}`);
        assert.strictEqual(s.positional, undefined, `${name} --${opt} leaks a mapping key`);
      }
    }
  };
  walk(frameworkCommands(asyncCommands));
});

test('options map to the binary', () => {
  assert.deepStrictEqual(
    globalArgs({ stage: 'prod', region: 'ap-shanghai', param: ['a=1', 'b=2'], output: 'json', endpoint: 'http://127.0.0.1:1', local: true }, '/s/serverless.yml'),
    ['--resolved-config', '-', '-c', '/s/serverless.yml', '--stage', 'prod', '--region', 'ap-shanghai', '--param', 'a=1', '--param', 'b=2', '--output', 'json', '--endpoint', 'http://127.0.0.1:1', '--local']
  );
  assert.deepStrictEqual(commandArgs(asyncCommands.invoke, { function: 'f', data: '{}' }), ['invoke', '--async', '--function', 'f', '--data', '{}']);
  assert.deepStrictEqual(
    commandArgs(asyncCommands.events.commands.terminate, { 'function': 'f', 'request-id': 'id', 'grace': '5s' }),
    ['events', 'terminate', '--function', 'f', '--grace', '5s', 'id']
  );
  assert.deepStrictEqual(commandArgs(asyncCommands.logs, { function: 'f', tail: true, 'request-id': 'id' }), ['logs', '--function', 'f', '--request-id', 'id', '--tail']);
  assert.deepStrictEqual(commandArgs(tencentCommands.invoke, { function: 'f', type: 'Event' }), ['invoke', '--function', 'f', '--async']);
  assert.deepStrictEqual(commandArgs(tencentCommands.invoke, { function: 'f', type: 'RequestResponse' }), ['invoke', '--function', 'f']);
  assert.deepStrictEqual(commandArgs(tencentCommands.logs, { function: 'f', startTime: '1h', interval: 500 }), ['logs', '--function', 'f', '--since', '1h', '--poll-interval', '500ms']);
});

test('the binary: ASYNCFN_BIN, then PATH, else one error naming all three', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asyncfn-plugin-'));
  const bin = path.join(dir, process.platform === 'win32' ? 'asyncfn.exe' : 'asyncfn');
  fs.writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
  const none = () => { throw new Error('not installed'); };
  assert.strictEqual(findBinary({ env: { ASYNCFN_BIN: bin }, resolve: none }), bin);
  assert.strictEqual(findBinary({ env: { PATH: dir }, resolve: none }), bin);
  assert.throws(() => findBinary({ env: { ASYNCFN_BIN: path.join(dir, 'nope') }, resolve: none }), /ASYNCFN_BIN/);
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'asyncfn-plugin-empty-'));
  assert.throws(() => findBinary({ env: { PATH: empty }, resolve: none }), (err) =>
    /ASYNCFN_BIN/.test(err.message) && /on PATH/.test(err.message) && /ships one/.test(err.message));
  fs.rmSync(dir, { recursive: true });
  fs.rmSync(empty, { recursive: true });
});
