const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
exports.ok = async (event, context) => {
  console.log("working on " + context.awsRequestId);
  await sleep(event.ms || 0);
  console.log("done");
  return { echo: event, fn: context.functionName };
};
exports.fail = async (event) => {
  console.log("about to fail");
  throw new Error("source file not found: " + (event.file || "x.mp4"));
};
exports.graceful = async (event) => {
  process.on("SIGTERM", () => { console.log("got SIGTERM, saving checkpoint"); process.exit(0); });
  console.log("long job started");
  await sleep(60000);
  return "never";
};
exports.stubborn = async () => {
  process.on("SIGTERM", () => { console.log("ignoring SIGTERM"); });
  console.log("stubborn job started");
  await sleep(60000);
};
exports.partial = async () => new Promise((resolve) => {
  const work = setTimeout(() => resolve({ partial: false }), 60000);
  process.once("SIGTERM", () => { console.log("SIGTERM: returning what is done"); clearTimeout(work); resolve({ partial: true }); });
  console.log("partial job started");
});
exports.version = async () => process.env.CODE_VERSION;
exports.record = async (event) => {
  console.log("destination got " + JSON.stringify(event));
  return event;
};
