// Drives the emulator's SCF layer actions with Tencent Cloud's own Node.js
// SDK: PublishLayerVersion for two layers (a binary in bin/, a module in
// nodejs/node_modules), CreateFunction binding both, GetFunction until
// Active, Invoke (RequestResponse), GetLayerVersion, and the error of an
// unknown layer version.
//
// Environment: SCF_ENDPOINT, SCF_SECRET_ID, SCF_SECRET_KEY, SCF_FUNCTION,
// LAYER_BIN_ZIP, LAYER_MOD_ZIP, CODE_ZIP (paths of files holding base64 zips).
// Prints one JSON document; exits non-zero on failure.
"use strict";

const fs = require("fs");
const tencentcloud = require("tencentcloud-sdk-nodejs-scf");

const client = new tencentcloud.scf.v20180416.Client({
  credential: { secretId: process.env.SCF_SECRET_ID, secretKey: process.env.SCF_SECRET_KEY },
  region: "ap-guangzhou",
  profile: { httpProfile: { endpoint: process.env.SCF_ENDPOINT, protocol: "http://", reqTimeout: 30 } },
});
const b64 = (env) => fs.readFileSync(process.env[env], "utf8").trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const name = process.env.SCF_FUNCTION;
  const out = {};
  const tools = await client.PublishLayerVersion({ LayerName: "node-tools", CompatibleRuntimes: ["Nodejs16.13"], Content: { ZipFile: b64("LAYER_BIN_ZIP") } });
  const mods = await client.PublishLayerVersion({ LayerName: "node-mods", CompatibleRuntimes: ["Nodejs16.13"], Content: { ZipFile: b64("LAYER_MOD_ZIP") } });
  out.versions = [tools.LayerVersion, mods.LayerVersion];
  await client.CreateFunction({
    FunctionName: name, Namespace: "default", Handler: "index.main_handler", Runtime: "Nodejs16.13",
    Code: { ZipFile: b64("CODE_ZIP") },
    Layers: [{ LayerName: "node-tools", LayerVersion: tools.LayerVersion }, { LayerName: "node-mods", LayerVersion: mods.LayerVersion }],
  });
  for (let i = 0; ; i++) {
    const f = await client.GetFunction({ FunctionName: name, Namespace: "default" });
    if (f.Status === "Active") { out.layers = (f.Layers || []).map((l) => l.LayerName + ":" + l.LayerVersion); break; }
    if (i > 300) throw new Error("never Active: " + f.Status);
    await sleep(100);
  }
  const inv = await client.Invoke({ FunctionName: name, InvocationType: "RequestResponse", ClientContext: "{}" });
  out.retMsg = inv.Result.RetMsg;
  const got = await client.GetLayerVersion({ LayerName: "node-mods", LayerVersion: mods.LayerVersion });
  out.codeSha256 = got.CodeSha256;
  try {
    await client.CreateFunction({
      FunctionName: name + "-x", Namespace: "default", Handler: "index.main_handler", Runtime: "Nodejs16.13",
      Code: { ZipFile: b64("CODE_ZIP") }, Layers: [{ LayerName: "node-mods", LayerVersion: 99 }],
    });
    out.unknownLayerCode = "none";
  } catch (e) {
    out.unknownLayerCode = e.code;
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { console.error(e && e.stack ? e.stack : e); process.exit(1); });
