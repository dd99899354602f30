"""Independent gRPC client for the RealtimeMtl perception feed (Debian's python3-grpcio).
Generates stubs from protos/rtmtl_feed.proto with grpc_tools, subscribes, and writes each frame as raw bytes:
OUT/labels_SEQ.bin (uint8), OUT/depth_SEQ.bin (float32 metres), OUT/classes_SEQ.txt; the Describe answer as OUT/describe.json.
usage: python3 feed_client.py PROTO_DIR ADDRESS OUT_DIR FRAMES"""
import os, sys, importlib
proto_dir, address, out_dir, frames = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(out_dir, exist_ok=True)
from grpc_tools import protoc
gen = os.path.join(out_dir, "gen")
os.makedirs(gen, exist_ok=True)
if protoc.main(["protoc", f"-I{proto_dir}", f"--python_out={gen}", f"--grpc_python_out={gen}", os.path.join(proto_dir, "rtmtl_feed.proto")]) != 0:
    sys.exit("protoc failed")
sys.path.insert(0, gen)
import grpc
pb = importlib.import_module("rtmtl_feed_pb2")
rpc = importlib.import_module("rtmtl_feed_pb2_grpc")
with grpc.insecure_channel(address) as channel:
    grpc.channel_ready_future(channel).result(timeout=30)
    stub = rpc.PerceptionFeedStub(channel)
    d = stub.Describe(pb.DescribeRequest(), timeout=30)
    import json
    json.dump({"model": d.model, "architecture": d.architecture, "backbone": d.backbone, "class_names": list(d.class_names),
               "palette": list(d.palette), "depth_min_m": d.depth_min_m, "depth_max_m": d.depth_max_m, "device": d.device},
              open(os.path.join(out_dir, "describe.json"), "w"))
    got = []
    for f in stub.Subscribe(pb.SubscribeRequest(depth_encoding=pb.DEPTH_FLOAT32_METRES, max_frames=frames), timeout=60):
        assert len(f.labels) == f.width * f.height and len(f.depth) == 4 * f.width * f.height
        open(os.path.join(out_dir, f"labels_{f.sequence}.bin"), "wb").write(f.labels)
        open(os.path.join(out_dir, f"depth_{f.sequence}.bin"), "wb").write(f.depth)
        with open(os.path.join(out_dir, f"classes_{f.sequence}.txt"), "w") as c:
            for s in f.classes:
                c.write(f"{s.class_id} {s.name} {s.pixel_share:.6f} {s.nearest_m:.4f} {s.median_m:.4f}\n")
        got.append(f.sequence)
    print("received", len(got), "frames:", ",".join(map(str, got)))
