#!/usr/bin/env python3
"""A robot's view of the RealtimeMtl perception feed (gRPC, protos/rtmtl_feed.proto).

Asks the engine once what it runs (Describe: model, class names and colours, camera), then reads frames: each
carries a ROS-style header (frame_id, sensor time), per-pixel class ids, metric depth (NaN = invalid, REP 118) and,
when asked, the input image as JPEG. For every frame it prints what a robot asks first: the nearest object of each
class and the depth straight ahead.

  clients/python/install.sh                       # once: generate the stubs into clients/python/gen
  ./rtmtl run --source synthetic --feed 127.0.0.1:50051 --feed-image &
  python3 clients/python/feed_client.py 127.0.0.1:50051 --frames 30 --image

--save DIR writes each frame as files (labels_SEQ.bin uint8, depth_SEQ.bin float32, image_SEQ.jpg, header_SEQ.json,
classes_SEQ.txt) plus describe.json and camera_info.json, as the project's tests read them.
"""
import argparse, array, json, math, os, sys

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("address", help="host:port of the engine's --feed")
parser.add_argument("--frames", type=int, default=10, help="frames to read, then stop (0 = until the engine stops)")
parser.add_argument("--token", default="", help="the engine's --token, if it has one")
parser.add_argument("--image", action="store_true", help="ask for the input image too (the engine needs --feed-image)")
parser.add_argument("--millimetres", action="store_true", help="depth as uint16 millimetres (0 = invalid) instead of float32 metres")
parser.add_argument("--save", metavar="DIR", help="write every frame to DIR")
parser.add_argument("--camera", action="append", default=[], help="several cameras: only this camera (repeat for more; default every camera)")
parser.add_argument("--sets", action="store_true", help="several cameras run with --sync-ms: read synchronised sets (every camera's frame of one moment) instead of frames")
parser.add_argument("--stubs", default=os.environ.get("RTMTL_FEED_STUBS", os.path.join(here, "gen")), help="folder of the generated stubs (install.sh)")
args = parser.parse_args()

sys.path.insert(0, args.stubs)
try:
    import grpc
    import rtmtl_feed_pb2 as pb
    import rtmtl_feed_pb2_grpc as rpc
except ImportError as e:
    sys.exit(f"error: {e}; run clients/python/install.sh first (it needs python3-grpcio and python3-grpc-tools)")

def save(name, data, mode="wb"):
    with open(os.path.join(args.save, name), mode) as f:
        f.write(data)

metadata = [("authorization", f"Bearer {args.token}")] if args.token else None
with grpc.insecure_channel(args.address) as channel:
    grpc.channel_ready_future(channel).result(timeout=30)
    stub = rpc.PerceptionFeedStub(channel)
    d = stub.Describe(pb.DescribeRequest(), timeout=30, metadata=metadata)
    names, palette = list(d.class_names), list(d.palette)
    print(f"{d.model}: {d.architecture} on {d.backbone}, {len(names)} classes, depth {d.depth_min_m:g}-{d.depth_max_m:g} m, "
          f"device {d.device}, frame_id {d.frame_id}")
    if d.HasField("camera_info"):
        k = d.camera_info.k
        print(f"camera {d.camera_info.width}x{d.camera_info.height}: fx {k[0]:.1f} fy {k[4]:.1f} cx {k[2]:.1f} cy {k[5]:.1f}, "
              f"{d.camera_info.distortion_model} {list(d.camera_info.d)}")
    if args.save:
        os.makedirs(args.save, exist_ok=True)
        info = d.camera_info
        save("describe.json", json.dumps({
            "model": d.model, "architecture": d.architecture, "backbone": d.backbone, "class_names": names, "palette": palette,
            "depth_min_m": d.depth_min_m, "depth_max_m": d.depth_max_m, "device": d.device, "frame_id": d.frame_id,
            "image_available": d.image_available,
            "camera_info": {"width": info.width, "height": info.height, "distortion_model": info.distortion_model,
                            "d": list(info.d), "k": list(info.k), "r": list(info.r), "p": list(info.p)} if d.HasField("camera_info") else None,
        }), "w")

    encoding = pb.DEPTH_UINT16_MILLIMETRES if args.millimetres else pb.DEPTH_FLOAT32_METRES
    request = pb.SubscribeRequest(depth_encoding=encoding, max_frames=args.frames, include_image=args.image, token=args.token, cameras=args.camera)
    if args.sets:
        # Every view of one moment: check the stamp spread, then use the frames together.
        sets = []
        for s in stub.SubscribeSets(request, timeout=120, metadata=metadata):
            stamps = [f.header.stamp_unix_ns for f in s.frames]
            spread = max(stamps) - min(stamps)
            assert spread == s.stamp_spread_ns, "the set's stamp spread disagrees with its frames"
            print(f"set {s.set}: {len(s.frames)} frames, stamp spread {spread / 1e6:.1f} ms: "
                  + ", ".join(f"{f.camera} ({f.header.frame_id}) {f.width}x{f.height}" for f in s.frames))
            if args.save:
                save("sets.jsonl", json.dumps({"set": s.set, "stamp_spread_ns": s.stamp_spread_ns, "frames": [
                    {"camera": f.camera, "frame_id": f.header.frame_id, "stamp_unix_ns": f.header.stamp_unix_ns, "width": f.width,
                     "height": f.height, "labels": len(f.labels), "has_camera_info": f.HasField("camera_info")} for f in s.frames]}) + "\n", "a")
            sets.append(s.set)
        print("received", len(sets), "sets:", ",".join(map(str, sets)))
        sys.exit(0)
    got = []
    for f in stub.Subscribe(request, timeout=120, metadata=metadata):
        w, h = f.width, f.height
        depth = array.array("H" if args.millimetres else "f", f.depth)
        assert len(f.labels) == w * h and len(depth) == w * h, "frame sizes disagree"
        scale = 0.001 if args.millimetres else 1.0
        valid = lambda v: v > 0 and not math.isnan(v)
        ahead = depth[(h // 2) * w + w // 2] * scale
        nearest = ", ".join(f"{names[c.class_id]} {c.nearest_m:.2f} m" for c in sorted(f.classes, key=lambda c: c.nearest_m)[:3])
        print(f"#{f.sequence} {(f.camera + ' ') if f.camera else ''}{f.header.frame_id} t={f.header.stamp_unix_ns / 1e9:.6f} "
              f"({pb.StampSource.Name(f.header.stamp_source)}) {w}x{h}: ahead {ahead:.2f} m; nearest {nearest}"
              + (f"; image {len(f.image_jpeg)} bytes" if f.image_jpeg else ""))
        if args.save:
            seq = f"{f.camera}_{f.sequence}" if f.camera else f.sequence  # several cameras: files named CAMERA_SEQ
            save(f"labels_{seq}.bin", f.labels)
            save(f"depth_{seq}.bin", f.depth)
            if f.image_jpeg:
                save(f"image_{seq}.jpg", f.image_jpeg)
            save(f"header_{seq}.json", json.dumps({
                "camera": f.camera, "frame_id": f.header.frame_id, "stamp_unix_ns": f.header.stamp_unix_ns,
                "stamp_source": pb.StampSource.Name(f.header.stamp_source), "receive_time_unix_ns": f.receive_time_unix_ns,
                "media_time_s": f.media_time_s, "has_camera_info": f.HasField("camera_info")}), "w")
            if f.HasField("camera_info") and not got:
                save("camera_info.json", json.dumps({"width": f.camera_info.width, "height": f.camera_info.height,
                                                     "d": list(f.camera_info.d), "k": list(f.camera_info.k)}), "w")
            save(f"classes_{seq}.txt", "".join(
                f"{c.class_id} {names[c.class_id]} {c.pixel_share:.6f} {c.nearest_m:.4f} {c.median_m:.4f}\n" for c in f.classes), "w")
        got.append(f.sequence)
    print("received", len(got), "frames:", ",".join(map(str, got)))
