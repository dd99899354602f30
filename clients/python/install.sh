#!/usr/bin/env bash
# Generates the Python gRPC stubs of the RealtimeMtl perception feed from protos/rtmtl_feed.proto.
# Needs grpcio and grpcio-tools: on Debian/Ubuntu `sudo apt-get install python3-grpcio python3-grpc-tools`,
# elsewhere `pip install grpcio grpcio-tools`.
#   clients/python/install.sh [STUB_DIR]     (default: clients/python/gen)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
protos="$here/../../protos"
out="${1:-$here/gen}"
mkdir -p "$out"
# The first Python that has grpc_tools: $PYTHON, python3 on PATH, then the system's.
for py in ${PYTHON:-} python3 /usr/bin/python3; do
  if "$py" -c "import grpc_tools" 2>/dev/null; then PYTHON="$py"; break; fi
done
if ! "${PYTHON:-python3}" -c "import grpc_tools" 2>/dev/null; then
  echo "error: no Python with grpc_tools; install python3-grpc-tools (Debian/Ubuntu) or pip install grpcio-tools" >&2; exit 2
fi
"$PYTHON" -m grpc_tools.protoc -I"$protos" --python_out="$out" --grpc_python_out="$out" "$protos/rtmtl_feed.proto"
echo "generated rtmtl_feed_pb2.py and rtmtl_feed_pb2_grpc.py in $out (run the client with $PYTHON)"
