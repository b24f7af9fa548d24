// The independent engine of the CEL differential test (tests/unit/cel_diff_test.cpp):
// @bufbuild/cel evaluates each expression of the JSON array on stdin and prints one canonical
// result per line (the same form the test writes for kubeharden's values).
"use strict";
const modules = process.argv[2];
const cel = require(modules + "/@bufbuild/cel/dist/cjs/index.js");
const { strings } = require(modules + "/@bufbuild/cel/dist/cjs/ext/index.js");

function bits(d) {
  if (Number.isNaN(d)) return "nan";
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, d);
  return view.getBigUint64(0).toString(16);
}

function canon(v) {
  if (cel.isCelError(v)) return "error";
  if (v === null) return "null";
  switch (typeof v) {
    case "bigint":
      return "i:" + v.toString();
    case "number":
      return "d:" + bits(v);
    case "string":
      return "s:" + JSON.stringify(v);
    case "boolean":
      return String(v);
  }
  if (cel.isCelUint(v)) return "u:" + v.value.toString();
  if (v instanceof Uint8Array) return "b:" + Buffer.from(v).toString("hex");
  if (cel.isCelType(v)) return "t:" + v.name;
  if (cel.isCelList(v)) return "[" + Array.from(v, canon).join(",") + "]";
  if (cel.isCelMap(v)) {
    const keyCanon = (k) => (typeof k === "object" && cel.isCelUint(k) ? canon(k) : canon(k));
    const entries = Array.from(v.entries(), ([k, val]) => keyCanon(k) + "=" + canon(val));
    entries.sort();
    return "{" + entries.join(",") + "}";
  }
  return "?";
}

let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const out = [];
  for (const expr of JSON.parse(input)) {
    let r;
    try {
      r = cel.run(expr, {}, { funcs: strings });
    } catch (e) {
      r = cel.celError(String(e));
    }
    out.push(canon(r));
  }
  process.stdout.write(out.join("\n") + "\n");
});
