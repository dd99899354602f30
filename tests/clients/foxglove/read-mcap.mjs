// Independent MCAP reader: opens a recording with @mcap/core and decodes its ROS 2 messages with the schemas stored in
// the file (@foxglove/rosmsg parses the ros2msg text, @foxglove/rosmsg2-serialization reads the CDR).
//   indexed (default): McapIndexedReader (footer, summary, chunk indexes, CRCs): prints JSON with the channels, the
//     statistics' message counts, and per topic the first message decoded (images: fields and a digest of the data).
//   --stream: McapStreamReader from the start, as for a file cut short by a kill: the same JSON from the records it
//     could read, with "complete" false when the file ends without its footer.
// Chunks may be zstd- or lz4-compressed (@foxglove/wasm-zstd, @foxglove/wasm-lz4); "compression" lists what the chunk
// indexes name (indexed mode).
// usage: node read-mcap.mjs FILE.mcap [--stream] [--dump DIR]   (--dump writes each topic's first image data as DIR/TOPIC.bin)
import { McapIndexedReader, McapStreamReader } from "@mcap/core";
import { parse } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import zstd from "@foxglove/wasm-zstd";
import lz4 from "@foxglove/wasm-lz4";

// The chunk decompressors the MCAP tools use: zstd and lz4, as rosbag2 and Foxglove write them.
await zstd.isLoaded;
await lz4.isLoaded;
const decompressHandlers = {
  zstd: (buffer, size) => zstd.decompress(buffer, Number(size)),
  lz4: (buffer, size) => lz4(buffer, Number(size)),
};

const args = process.argv.slice(2);
const file = args[0];
const stream = args.includes("--stream");
const dumpDir = args.includes("--dump") ? args[args.indexOf("--dump") + 1] : null;
const out = { channels: [], counts: {}, first: {}, complete: !stream, profile: null, compression: [] };
const readers = new Map();
const channels = new Map();

function addChannel(channel, schema) {
  channels.set(channel.id, channel);
  out.channels.push({ topic: channel.topic, schemaName: schema.name, schemaEncoding: schema.encoding, messageEncoding: channel.messageEncoding, qos: channel.metadata.get("offered_qos_profiles") ?? null });
  readers.set(channel.id, new MessageReader(parse(new TextDecoder().decode(schema.data), { ros2: true })));
}

function onMessage(m) {
  const channel = channels.get(m.channelId);
  if (stream) out.counts[channel.topic] = (out.counts[channel.topic] ?? 0) + 1;
  if (out.first[channel.topic]) return;
  const msg = readers.get(m.channelId).readMessage(m.data);
  const plain = {};
  for (const [k, v] of Object.entries(msg)) {
    if (v instanceof Uint8Array) { plain[k + "_sha256"] = crypto.createHash("sha256").update(v).digest("hex"); plain[k + "_length"] = v.length; }
    else if (ArrayBuffer.isView(v)) plain[k] = Array.from(v);
    else plain[k] = v;
  }
  plain.log_time = m.logTime.toString();
  out.first[channel.topic] = plain;
  if (dumpDir && msg.data instanceof Uint8Array) {
    fs.mkdirSync(dumpDir, { recursive: true });
    fs.writeFileSync(path.join(dumpDir, channel.topic.replaceAll("/", "_").replace(/^_/, "") + ".bin"), msg.data);
  }
}

if (stream) {
  const reader = new McapStreamReader({ validateCrcs: true, decompressHandlers });
  reader.append(fs.readFileSync(file));
  const schemas = new Map();
  for (let r; (r = reader.nextRecord()); ) {
    if (r.type === "Header") out.profile = r.profile;
    else if (r.type === "Schema") schemas.set(r.id, r);
    else if (r.type === "Channel") addChannel(r, schemas.get(r.schemaId));
    else if (r.type === "Message") onMessage(r);
    else if (r.type === "Footer") out.complete = true;
  }
} else {
  const fd = await fs.promises.open(file, "r");
  const readable = {
    size: async () => BigInt((await fd.stat()).size),
    read: async (offset, size) => {
      const buf = Buffer.alloc(Number(size));
      await fd.read(buf, 0, Number(size), Number(offset));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    },
  };
  const reader = await McapIndexedReader.Initialize({ readable, decompressHandlers });
  out.profile = reader.header.profile;
  for (const channel of reader.channelsById.values()) addChannel(channel, reader.schemasById.get(channel.schemaId));
  for (const [id, n] of reader.statistics.channelMessageCounts) out.counts[channels.get(id).topic] = Number(n);
  out.chunks = reader.chunkIndexes.length;
  out.compression = [...new Set(reader.chunkIndexes.map((c) => c.compression))];
  for await (const m of reader.readMessages()) onMessage(m);
  await fd.close();
}
console.log(JSON.stringify(out));
