// Drives the asyncfn emulator's SCF API 3.0 front with Tencent Cloud's own
// Node.js SDK (tencentcloud-sdk-nodejs-scf), a client asyncfn did not write:
// CreateFunction, GetFunction until Active, Invoke (Event),
// GetAsyncEventStatus until done, ListAsyncEvents, and one error answer.
//
// Environment: SCF_ENDPOINT (host:port), SCF_SECRET_ID, SCF_SECRET_KEY,
// SCF_FUNCTION (name), SCF_ZIP (path of a file holding the base64 zip).
// Prints one JSON document with what it saw; exits non-zero on failure.
"use strict";

const fs = require("fs");
const tencentcloud = require("tencentcloud-sdk-nodejs-scf");

const ScfClient = tencentcloud.scf.v20180416.Client;
const client = new ScfClient({
  credential: { secretId: process.env.SCF_SECRET_ID, secretKey: process.env.SCF_SECRET_KEY },
  region: "ap-guangzhou",
  profile: { httpProfile: { endpoint: process.env.SCF_ENDPOINT, protocol: "http://", reqTimeout: 30 } },
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, ok) {
  const deadline = Date.now() + 30000;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(what + " never happened; last answer " + JSON.stringify(v));
    await sleep(100);
  }
}

async function main() {
  const name = process.env.SCF_FUNCTION;
  const out = {};
  const created = await client.CreateFunction({
    FunctionName: name,
    Namespace: "default",
    Code: { ZipFile: fs.readFileSync(process.env.SCF_ZIP, "utf8").trim() },
    Handler: "index.main_handler",
    Runtime: "Nodejs16.13",
    MemorySize: 128,
    Timeout: 1200,
    AsyncRunEnable: "TRUE",
    TraceEnable: "TRUE", // SCF keeps async events only for functions with event tracking
    Environment: { Variables: [{ Key: "GREETING", Value: "hello" }] },
  });
  out.createRequestId = created.RequestId;
  const fn = await until("Active", () => client.GetFunction({ FunctionName: name }), (f) => f.Status === "Active");
  out.asyncRunEnable = fn.AsyncRunEnable;
  out.timeout = fn.Timeout;

  const inv = await client.Invoke({ FunctionName: name, InvocationType: "Event", ClientContext: JSON.stringify({ who: "node" }) });
  const id = inv.Result.FunctionRequestId;
  out.requestId = id;

  const st = await until("a final status", () => client.GetAsyncEventStatus({ InvokeRequestId: id }), (r) => r.Result.Status !== "RUNNING");
  out.status = st.Result.Status;
  out.statusCode = st.Result.StatusCode;
  out.statusRequestId = st.Result.InvokeRequestId;

  const one = await client.ListAsyncEvents({ FunctionName: name, InvokeRequestId: id });
  out.listed = one.EventList.map((e) => ({ id: e.InvokeRequestId, status: e.Status, type: e.InvokeType, start: e.StartTime, end: e.EndTime }));
  const finished = await client.ListAsyncEvents({ FunctionName: name, Status: ["FINISHED"], Order: "DESC", Limit: 10 });
  out.finishedTotal = finished.TotalCount;

  const logs = await client.GetFunctionLogs({ FunctionName: name, FunctionRequestId: id });
  out.log = logs.Data.map((d) => d.Log).join("");
  out.retMsg = logs.Data.map((d) => d.RetMsg).join("");

  try {
    await client.GetAsyncEventStatus({ InvokeRequestId: "00000000-0000-4000-8000-000000000000" });
    out.unknownEventCode = "no error";
  } catch (e) {
    out.unknownEventCode = e.code;
    out.unknownEventRequestId = e.requestId;
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
  process.stderr.write("scf-node: " + (e.code ? e.code + ": " : "") + (e.message || e) + "\n");
  process.exit(1);
});
