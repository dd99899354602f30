// Independent Foxglove client: connects to the engine, checks the advertised channels, subscribes to the label map and
// depth, and writes each received frame as raw bytes named by its header stamp (Unix ns):
// OUT/labels_STAMP.bin (uint8), OUT/depth_STAMP.bin (float32 metres).
// OUT/frame_ids.txt gets each message's frame_id. PREFIX picks the camera's topics (default /rtmtl, one camera;
// /NAME for camera NAME of several).
// usage: node receive.mjs ws://127.0.0.1:8765 OUT_DIR FRAMES [PREFIX]
import foxglove from "@foxglove/ws-protocol";
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
const received = { labels: new Set(), depth: new Set() };
const timer = setTimeout(() => { console.error("timeout"); process.exit(2); }, 60000);

client.on("advertise", (channels) => {
  for (const c of channels) topics.set(c.topic, c);
  fs.writeFileSync(path.join(outDir, "channels.json"), JSON.stringify(channels.map((c) => ({ topic: c.topic, schemaName: c.schemaName, encoding: c.encoding }))));
  for (const topic of [`${prefix}/labels`, `${prefix}/depth`]) {
    const c = topics.get(topic);
    if (!c) { console.error("missing channel " + topic); process.exit(3); }
    c.subscription = client.subscribe(c.id);
  }
});

client.on("message", ({ subscriptionId, timestamp, data }) => {
  const msg = JSON.parse(new TextDecoder().decode(data));
  const seq = (BigInt(msg.timestamp.sec) * 1000000000n + BigInt(msg.timestamp.nsec)).toString();
  const kind = subscriptionId === topics.get(`${prefix}/labels`).subscription ? "labels" : "depth";
  fs.appendFileSync(path.join(outDir, "frame_ids.txt"), msg.frame_id + "\n");
  const expected = kind === "labels" ? "mono8" : "32FC1";
  if (msg.encoding !== expected) { console.error(`bad encoding ${msg.encoding}`); process.exit(4); }
  const bytes = Buffer.from(msg.data, "base64");
  if (bytes.length !== msg.step * msg.height) { console.error("bad size"); process.exit(5); }
  fs.writeFileSync(path.join(outDir, `${kind}_${seq}.bin`), bytes);
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
