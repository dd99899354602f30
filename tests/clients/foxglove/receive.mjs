// Independent Foxglove client: connects to the engine, checks the advertised channels, subscribes to the label map,
// depth and camera info, decodes each message from CDR with the ros2msg schema the channel advertises
// (@foxglove/rosmsg parses it, @foxglove/rosmsg2-serialization reads the bytes), and writes each frame as raw bytes
// named by its header stamp (Unix ns): OUT/labels_STAMP.bin (uint8), OUT/depth_STAMP.bin (float32 metres).
// OUT/frame_ids.txt gets each message's frame_id, OUT/camera_info.json the last CameraInfo.
// PREFIX picks the camera's topics (default /rtmtl, one camera; /NAME for camera NAME of several).
// usage: node receive.mjs ws://127.0.0.1:8765 OUT_DIR FRAMES [PREFIX]
import foxglove from "@foxglove/ws-protocol";
import { parse } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";
import WebSocket from "ws";
import fs from "node:fs";
import path from "node:path";

const { FoxgloveClient } = foxglove;
const [url, outDir, framesArg, prefixArg] = process.argv.slice(2);
const prefix = prefixArg ?? "/rtmtl";
const wanted = Number(framesArg);
fs.mkdirSync(outDir, { recursive: true });
const client = new FoxgloveClient({ ws: new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]) });
const topics = new Map();
const readers = new Map();
const received = { labels: new Set(), depth: new Set() };
const timer = setTimeout(() => { console.error("timeout"); process.exit(2); }, 60000);

client.on("advertise", (channels) => {
  for (const c of channels) topics.set(c.topic, c);
  fs.writeFileSync(path.join(outDir, "channels.json"), JSON.stringify(channels.map((c) => ({ topic: c.topic, schemaName: c.schemaName, encoding: c.encoding }))));
  const info = topics.has(`${prefix}/camera_info`) ? `${prefix}/camera_info` : null;
  for (const topic of [`${prefix}/labels`, `${prefix}/depth`, info].filter(Boolean)) {
    const c = topics.get(topic);
    if (!c) { console.error("missing channel " + topic); process.exit(3); }
    if (c.encoding !== "cdr" || c.schemaEncoding !== "ros2msg") { console.error(`channel ${topic}: ${c.encoding}/${c.schemaEncoding}, expected cdr/ros2msg`); process.exit(3); }
    c.subscription = client.subscribe(c.id);
    readers.set(c.subscription, { topic, reader: new MessageReader(parse(c.schema, { ros2: true })) });
  }
});

client.on("message", ({ subscriptionId, data }) => {
  const { topic, reader } = readers.get(subscriptionId);
  const msg = reader.readMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const seq = (BigInt(msg.header.stamp.sec) * 1000000000n + BigInt(msg.header.stamp.nanosec)).toString();
  fs.appendFileSync(path.join(outDir, "frame_ids.txt"), msg.header.frame_id + "\n");
  if (topic.endsWith("/camera_info")) {
    fs.writeFileSync(path.join(outDir, "camera_info.json"), JSON.stringify({ ...msg, d: [...msg.d], k: [...msg.k], r: [...msg.r], p: [...msg.p] }));
    return;
  }
  const kind = topic.endsWith("/labels") ? "labels" : "depth";
  const expected = kind === "labels" ? "mono8" : "32FC1";
  if (msg.encoding !== expected) { console.error(`bad encoding ${msg.encoding}`); process.exit(4); }
  if (msg.data.length !== msg.step * msg.height) { console.error("bad size"); process.exit(5); }
  fs.writeFileSync(path.join(outDir, `${kind}_${seq}.bin`), msg.data);
  received[kind].add(seq);
  const both = [...received.labels].filter((s) => received.depth.has(s));
  if (both.length >= wanted) {
    clearTimeout(timer);
    console.log(`received ${both.length} frames: ${both.join(",")}`);
    client.close();
    process.exit(0);
  }
});
client.on("error", (e) => { console.error("error " + e); process.exit(6); });
