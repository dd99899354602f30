// Bytes per frame on the wire: subscribes to every advertised channel of one camera and averages the message payload
// bytes (what the server sends after the 13-byte message header) per message of each channel, until FRAMES label
// messages arrived; the total is one frame with every channel (a slow client may skip messages, so averages, not sums).
// usage: node bytes.mjs ws://127.0.0.1:8765 FRAMES [PREFIX]
import foxglove from "@foxglove/ws-protocol";
import WebSocket from "ws";

const { FoxgloveClient } = foxglove;
const [url, framesArg, prefixArg] = process.argv.slice(2);
const prefix = prefixArg ?? "/rtmtl";
const wanted = Number(framesArg);
const client = new FoxgloveClient({ ws: new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]) });
const bySub = new Map();
const bytes = new Map();
const counts = new Map();
let frames = 0;
let labelsSub = -1;
const timer = setTimeout(() => { console.error("timeout"); process.exit(2); }, 60000);
client.on("advertise", (channels) => {
  for (const c of channels) {
    if (!c.topic.startsWith(prefix + "/") && c.topic !== "/rtmtl/classes" && c.topic !== "/tf_static") continue;
    const sub = client.subscribe(c.id);
    bySub.set(sub, `${c.topic} (${c.schemaName}, ${c.encoding})`);
    if (c.topic === `${prefix}/labels`) labelsSub = sub;
  }
});
client.on("message", ({ subscriptionId, data }) => {
  const name = bySub.get(subscriptionId);
  // The first label frame starts the count, so every channel is counted over the same frames.
  if (frames === 0 && subscriptionId !== labelsSub) return;
  if (subscriptionId === labelsSub && ++frames > wanted) {
    clearTimeout(timer);
    let total = 0;
    for (const [n, b] of [...bytes].sort()) { const avg = b / counts.get(n); console.log(`${n}: ${Math.round(avg)} B/message (${counts.get(n)} messages)`); total += avg; }
    console.log(`total: ${Math.round(total)} B/frame (every channel once)`);
    client.close();
    process.exit(0);
  }
  bytes.set(name, (bytes.get(name) ?? 0) + data.byteLength);
  counts.set(name, (counts.get(name) ?? 0) + 1);
});
client.on("error", (e) => { console.error("error " + e); process.exit(6); });
