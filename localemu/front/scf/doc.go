// Package scf serves Tencent Cloud SCF's API 3.0 (version 2018-04-16) at
// POST / — functions, Invoke, the async-mode event actions (ListAsyncEvents,
// GetAsyncEventStatus, TerminateAsyncEvent), event invoke configuration and
// GetFunctionLogs — with TC3-HMAC-SHA256 signatures checked when the emulator
// has credentials, so that Tencent's own SDKs and adapters/tencent work
// against the emulator unchanged. Answers and error codes are SCF's
// ({"Response":{…}}, HTTP 200), as its SDK models and API docs give them.
package scf
