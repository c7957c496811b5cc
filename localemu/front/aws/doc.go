// Package aws serves the AWS APIs the emulator speaks, which share one call
// type and SigV4: Lambda's REST API (functions, Invoke, concurrency, event
// invoke configuration), durable executions (every async event is one), and
// CloudWatch Logs JSON 1.1 over /aws/lambda/<function> with StartLiveTail, so
// that the AWS SDKs, the aws CLI and adapters/aws work against the emulator
// unchanged. Errors come in each API's own shape (x-amzn-ErrorType, or
// {"__type"}), with the codes the SDK models give.
package aws
