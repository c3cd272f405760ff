// PostGraphile 5 asks for Node 22; this machine has Node 20. What it uses from 22 (grafast's
// deferreds) is Promise.withResolvers, filled in here before PostGraphile loads.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
