#!/usr/bin/env node
// Example consumer of RealtimeMtl's per-frame results on NATS.
// Each message on rtmtl.frames.{camera} is a FeedFrame of protos/rtmtl_feed.proto (the gRPC feed's message).
//
//   cd clients/nats && npm ci
//   node consume.mjs --server nats://127.0.0.1:4222 --token s3cret                    every camera (rtmtl.frames.>)
//   node consume.mjs --server nats://127.0.0.1:4222 --subject rtmtl.frames.front --max 100 --json
//
// Prints one line per frame: camera, sequence, stamp, classes in view with their nearest depth, and the frame's
// median depth; --json prints the same as one JSON object a line.
import { connect } from "nats";
import protobuf from "protobufjs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const server = opt("--server", "nats://127.0.0.1:4222");
const subject = opt("--subject", "rtmtl.frames.>");
const max = Number(opt("--max", "0"));
const json = args.includes("--json");
const token = opt("--token", process.env.NATS_TOKEN);

const here = path.dirname(fileURLToPath(import.meta.url));
const root = await protobuf.load(path.join(here, "..", "..", "protos", "rtmtl_feed.proto"));
const FeedFrame = root.lookupType("rtmtl.feed.v1.FeedFrame");

let nc;
try {
  nc = await connect({ servers: server, token, name: "rtmtl-example-consumer" });
} catch (e) {
  console.error(`error: could not connect to ${server}: ${e.message}`);
  process.exit(2);
}
const sub = nc.subscribe(subject, max > 0 ? { max } : undefined);
console.error(`listening on ${subject} at ${server}`);
for await (const m of sub) {
  const f = FeedFrame.decode(m.data);
  const row = {
    subject: m.subject,
    camera: f.camera,
    sequence: Number(f.sequence),
    frame_id: f.header?.frameId ?? "",
    stamp_unix_ns: String(f.header?.stampUnixNs ?? 0),
    width: f.width,
    height: f.height,
    classes: (f.classes ?? []).map((c) => ({ class_id: c.classId, pixel_share: c.pixelShare, nearest_m: c.nearestM })),
    depth_p50_m: f.depthSummary?.p50M ?? null,
    labels_png_bytes: f.labelsPng?.length ?? 0,
    depth_png_bytes: f.depthPngMm?.length ?? 0,
    bytes: m.data.length,
  };
  if (json) console.log(JSON.stringify(row));
  else {
    const classes = row.classes.filter((c) => c.pixel_share >= 0.05).map((c) => `${c.class_id}:${(100 * c.pixel_share).toFixed(0)}%@${c.nearest_m.toFixed(2)}m`).join(" ");
    console.log(`${row.camera} #${row.sequence} ${row.width}x${row.height} median ${row.depth_p50_m?.toFixed(2)} m  ${classes}`);
  }
}
await nc.close();
