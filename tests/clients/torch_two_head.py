"""A small two-head network in Debian's python3-torch, exported with torch.onnx.export, and its reference outputs.
usage: python3 torch_two_head.py OUT_DIR [if]
With "if", the depth head goes through a scripted, data-dependent branch that the ONNX export keeps as an If node
whose two subgraphs read the outer graph's values (both branches give the same numbers, so the references hold).
Writes OUT_DIR/model.onnx (input 'pixels' float32 [N,3,96,128] RGB in [0,1] normalised by ImageNet mean/std;
outputs 'logits' [N,5,24,32] and 'dist' [N,1,24,32]) and, for 4 images, image_K.bin (uint8 BGR HWC), and what
PyTorch says at input resolution: labels_K.bin (uint8, argmax of bilinearly upsampled logits) and depth_K.bin
(float32, upsampled depth, clipped to 0..10 m)."""
import os, sys, torch, torch.nn as nn, torch.nn.functional as F
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
H, W = 96, 128
with_if = len(sys.argv) > 2 and sys.argv[2] == "if"

@torch.jit.script
def gate(d: torch.Tensor) -> torch.Tensor:
    if bool(d.mean() > 0.5):
        return d * 1.0
    else:
        return d + 0.0

class TwoHead(nn.Module):
    def __init__(s):
        super().__init__()
        s.a = nn.Conv2d(3, 16, 3, stride=2, padding=1); s.b = nn.BatchNorm2d(16); s.c = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        s.seg = nn.Conv2d(32, 5, 1); s.depth = nn.Conv2d(32, 1, 1)
    def forward(s, x):
        y = F.relu(s.c(F.relu(s.b(s.a(x)))))
        d = F.softplus(s.depth(y))
        return s.seg(y), gate(d) if with_if else d
m = TwoHead().eval()
with torch.no_grad():
    for p in m.parameters(): p.normal_(0, 0.3)
    m.b.running_mean.normal_(0, 0.1); m.b.running_var.uniform_(0.5, 1.5)
torch.onnx.export(m, torch.rand(1, 3, H, W), os.path.join(out, "model.onnx"), input_names=["pixels"], output_names=["logits", "dist"], opset_version=14)
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1); std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
g = torch.Generator().manual_seed(1)
for k in range(4):
    # Image-like: smooth gradients and blocks plus a little noise, not white noise.
    yy, xx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    base = torch.stack([(xx * (2 + k)) % 256, (yy * (3 + k)) % 256, ((xx // 16 + yy // 16) * 40 * (k + 1)) % 256], dim=-1).float()
    bgr = (base + torch.randint(0, 20, (H, W, 3), generator=g)).clamp(0, 255).to(torch.uint8)
    open(os.path.join(out, f"image_{k}.bin"), "wb").write(bgr.numpy().tobytes())
    rgb = bgr.flip(-1).permute(2, 0, 1).unsqueeze(0).float() / 255
    with torch.no_grad():
        logits, dist = m((rgb - mean) / std)
        logits = F.interpolate(logits, size=(H, W), mode="bilinear", align_corners=False)
        dist = F.interpolate(dist, size=(H, W), mode="bilinear", align_corners=False).clamp(0, 10)
    open(os.path.join(out, f"labels_{k}.bin"), "wb").write(logits.argmax(1)[0].to(torch.uint8).numpy().tobytes())
    open(os.path.join(out, f"depth_{k}.bin"), "wb").write(dist[0, 0].numpy().astype("float32").tobytes())
print("ok")
