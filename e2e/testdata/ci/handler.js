// hello answers with a greeting; broken always throws (the failing CI run).
exports.hello = async (event) => {
  console.log("hello got", JSON.stringify(event));
  return { greeting: "hello " + (event.name || "world") };
};

exports.broken = async (event) => {
  console.log("broken got", JSON.stringify(event));
  throw new Error("broken on purpose: " + (event.name || "no name"));
};

// slow runs for event.ms milliseconds (a stop must let it finish).
exports.slow = async (event) => {
  console.log("slow started");
  await new Promise((r) => setTimeout(r, event.ms || 1000));
  console.log("slow done");
  return { slept: event.ms || 1000 };
};
