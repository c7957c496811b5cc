'use strict';

// serverless-asyncfn: asyncfn inside the Serverless Framework (v3, osls).
//
// The plugin maps the Framework's commands and options to the asyncfn
// binary and holds no other logic. The binary gets the configuration the
// Framework resolved (variables of every source, other plugins' included)
// as JSON on stdin, so the two can never disagree about a value; what a
// command does, and every check of the configuration, is the binary's.
//
//   serverless async invoke|logs|events list|get|terminate|stats|dev
//   provider: tencent — deploy, deploy function, remove, invoke, logs, info
//   provider: aws     — durableConfig written into the compiled template

const path = require('node:path');
const { findBinary } = require('./lib/binary');
const { runBinary } = require('./lib/run');
const {
  passThrough,
  asyncCommands,
  tencentCommands,
  frameworkCommands,
  leaves,
  globalArgs,
  commandArgs,
} = require('./lib/commands');
const schema = require('./lib/schema');

// TencentProvider is what the Framework knows as the tencent provider.
class TencentProvider {
  static getProviderName() {
    return 'tencent';
  }

  constructor(serverless) {
    this.serverless = serverless;
  }
}

class ServerlessAsyncfn {
  constructor(serverless, options, utils = {}) {
    this.serverless = serverless;
    this.options = options || {};
    this.log = (utils && utils.log) || console;
    const providerName = serverless.service.provider.name;

    if (providerName === 'tencent') {
      serverless.setProvider('tencent', new TencentProvider(serverless));
    }
    const handler = serverless.configSchemaHandler;
    if (handler) {
      // Each is a no-op for the other provider.
      handler.defineProvider('tencent', schema.tencent);
      try {
        handler.defineFunctionProperties('aws', schema.awsFunction);
      } catch (err) {
        // A later Framework (or another plugin) may know durableConfig.
        if (!/already have a definition/.test(err.message)) throw err;
      }
    }

    // The configuration as the Framework resolved it, taken before any
    // command runs: packaging adds its own keys to it (AWS puts the compiled
    // templates under provider), which are not the user's configuration.
    this.hooks = {
      initialize: () => {
        this.resolved = JSON.parse(JSON.stringify(this.serverless.configurationInput || {}));
      },
    };

    this.commands = { async: { usage: 'asyncfn: async events of long-running functions', commands: frameworkCommands(asyncCommands) } };
    for (const [words, def] of leaves(asyncCommands)) {
      this.hooks[`async:${words.join(':')}:run`] = () => this.run(def);
    }

    if (providerName === 'tencent') {
      // The Framework's own commands, with the options the binary takes.
      this.commands.deploy = { options: { ...passThrough }, commands: { function: { options: { ...passThrough } } } };
      for (const name of ['remove', 'invoke', 'logs', 'info']) this.commands[name] = { options: { ...passThrough } };
      this.hooks['deploy:deploy'] = () => this.run(tencentCommands.deploy);
      this.hooks['deploy:function:deploy'] = () => this.run(tencentCommands['deploy:function']);
      this.hooks['remove:remove'] = () => this.run(tencentCommands.remove);
      this.hooks['invoke:invoke'] = () => this.run(tencentCommands.invoke);
      this.hooks['logs:logs'] = () => this.run(tencentCommands.logs);
      this.hooks['info:info'] = () => this.run(tencentCommands.info);
    }
    if (providerName === 'aws') {
      this.hooks['after:package:compileFunctions'] = () => this.writeDurableConfig();
    }
  }

  configFile() {
    const { serviceDir, configurationFilename } = this.serverless;
    return serviceDir && configurationFilename ? path.join(serviceDir, configurationFilename) : undefined;
  }

  // exec runs asyncfn with the global flags and args; a failure exits with
  // the binary's status, after the binary has said what went wrong.
  async exec(args, { capture = false, options = this.options } = {}) {
    const bin = findBinary();
    const all = [...globalArgs(options, this.configFile()), ...args];
    const { code, stdout } = await runBinary(bin, all, this.resolved || this.serverless.configurationInput, { capture });
    if (code !== 0) {
      process.exit(code);
    }
    return stdout;
  }

  run(def) {
    return this.exec(commandArgs(def, this.options));
  }

  // writeDurableConfig puts each function's durableConfig, as the binary
  // validates it, into the compiled template as the function's
  // DurableConfig, so that packaging and CloudFormation deploys carry it.
  async writeDurableConfig() {
    const fns = this.serverless.service.functions || {};
    if (!Object.values(fns).some((f) => f && f.durableConfig)) return;
    // Only --stage/--region/--param matter here; the output must be JSON.
    const options = { stage: this.options.stage, region: this.options.region, param: this.options.param, output: 'json' };
    const out = await this.exec(['validate'], { capture: true, options });
    const validated = JSON.parse(out);
    const naming = this.serverless.getProvider('aws').naming;
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    for (const f of validated.functions) {
      if (!f.durableConfig) continue;
      const resource = resources[naming.getLambdaLogicalId(f.name)];
      if (!resource) continue;
      resource.Properties.DurableConfig = { ExecutionTimeout: f.durableConfig.executionTimeout };
      if (f.durableConfig.retentionPeriodInDays) {
        resource.Properties.DurableConfig.RetentionPeriodInDays = f.durableConfig.retentionPeriodInDays;
      }
    }
  }
}

module.exports = ServerlessAsyncfn;
