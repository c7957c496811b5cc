'use strict';

// The configuration schema the plugin gives the Framework: the tencent
// provider (with SCF's async keys as function properties), and AWS
// durableConfig. Limits are checked again by the binary, with its own
// messages; these let the Framework's validation accept the keys.

const stringMap = { type: 'object', additionalProperties: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } };
const tencentEnvironment = {
  type: 'object',
  properties: { variables: stringMap },
  additionalProperties: false,
};
const packageSchema = {
  type: 'object',
  properties: {
    artifact: { type: 'string' },
    exclude: { type: 'array', items: { type: 'string' } },
    include: { type: 'array', items: { type: 'string' } },
    individually: { type: 'boolean' },
    patterns: { type: 'array', items: { type: 'string' } },
  },
  additionalProperties: false,
};
const integerish = { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^\\d+$' }] };
const booleanish = { anyOf: [{ type: 'boolean' }, { type: 'string', pattern: '^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$' }] };

const tencent = {
  provider: {
    properties: {
      runtime: { type: 'string' },
      region: { type: 'string' },
      memorySize: integerish,
      timeout: integerish,
      environment: tencentEnvironment,
      credentials: { type: 'string' },
      role: { type: 'string' },
      namespace: { type: 'string' },
      cosBucket: { type: 'string' },
      vpcConfig: { type: 'object' },
    },
  },
  function: {
    properties: {
      handler: { type: 'string' },
      runtime: { type: 'string' },
      description: { type: 'string' },
      memorySize: integerish,
      timeout: integerish,
      environment: tencentEnvironment,
      package: packageSchema,
      reservedConcurrency: integerish,
      role: { type: 'string' },
      namespace: { type: 'string' },
      vpcConfig: { type: 'object' },
      layers: { type: 'array', items: { type: 'string' } },
      // SCF's async execution mode and its event settings.
      asyncRunEnable: booleanish,
      traceEnable: booleanish,
      retryNum: integerish,
      msgTTL: integerish,
    },
  },
};

const awsFunction = {
  properties: {
    // Lambda durable functions: DurableConfig of AWS::Lambda::Function.
    durableConfig: {
      type: 'object',
      properties: {
        executionTimeout: integerish,
        retentionPeriodInDays: integerish,
      },
      additionalProperties: false,
    },
  },
};

module.exports = { tencent, awsFunction };
