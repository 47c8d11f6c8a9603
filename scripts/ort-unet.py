#!/usr/bin/env python3
"""The FusionDiff U-Net forward in ONNX Runtime beside focusd's own (issue 21). A check, not product.

Builds the U-Net graph of a focusd model file with the `onnx` helper API (the layout of
Sources/FusionDiff/UNet+Layout.swift: inBlock, ResBlocks of GroupNorm-SiLU-Conv with the time
shift after conv1, stride-2 convolutions down, 3x3 stride-2 transposed convolutions up, additive
skips, outBlock GroupNorm-SiLU-Conv), from the same safetensors weights, and

  1. verifies it: ORT's output against the golden output of ../shared/golden/fusiondiff-tiny
     (t = 1234), and against `focusd model forward` on seeded random weights of each width;
  2. times it: the whole forward at SIZE² with ORT CPU fp32 (intra-op threads = THREADS) and
     `focusd bench nn --widths W` (the same network shape, THREADS threads) alternately, RUNS
     times each, and prints the medians and ours ÷ ORT (≤ 0.75 is issue 21's target).

Usage: scripts/ort-unet.py [--focusd .build/release/focusd] [--widths 16 32 64] [--size 512]
                           [--threads 2] [--runs 3]
Needs numpy, onnx and onnxruntime (pip install onnx onnxruntime). Exit 1 when a parity check fails.
"""
import argparse, json, math, os, struct, subprocess, sys, tempfile, time
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
golden = os.path.join(root, "..", "shared", "golden", "fusiondiff-tiny")


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", name
        a, b = info["data_offsets"]
        tensors[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype="<f4").reshape(info["shape"]).copy()
    return tensors, json.loads(meta["config"])


def write_safetensors(path, tensors, config):
    header, offset, blobs = {"__metadata__": {"config": json.dumps(config)}}, 0, []
    for name, value in tensors.items():
        blob = np.ascontiguousarray(value, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def small_config(width):
    """FusionDiffConfiguration.small(width:) — what `focusd bench nn` times."""
    return {"image_channels": 1, "width": width, "mults": [1, 2, 4, 8], "res_blocks": 2, "groups": 8,
            "time_channels": width, "time_embed_dim": 4 * width, "dropout": 0.1, "prediction": "x0"}


def layout(config):
    """Parameter names and shapes in the order of UNet+Layout.swift."""
    w, mults, e, groups = config["width"], config["mults"], config["time_embed_dim"], config["groups"]
    cin = 3 * config["image_channels"] + (2 if config.get("focus_features") else 0)
    shapes = {}
    def lin(name, i, o): shapes[name + ".weight"] = (o, i); shapes[name + ".bias"] = (o,)
    def conv(name, i, o, k): shapes[name + ".weight"] = (o, i, k, k); shapes[name + ".bias"] = (o,)
    def norm(name, c): shapes[name + ".weight"] = (c,); shapes[name + ".bias"] = (c,)
    stages = []
    def res(prefix, i, o):
        norm(prefix + ".conv1.0", i); conv(prefix + ".conv1.2", i, o, 3); lin(prefix + ".time_emb.1", e, o)
        norm(prefix + ".conv2.0", o); conv(prefix + ".conv2.3", o, o, 3)
        if i != o: conv(prefix + ".shortcut", i, o, 1)
        stages.append(("res", prefix, i, o))
    lin("time_embed.0", config["time_channels"], e); lin("time_embed.2", e, e)
    conv("inBlock", cin, w, 3); stages.append(("conv", "inBlock", 1))
    levels, ch, index = len(mults), w, 0
    for level, m in enumerate(mults):
        for _ in range(config["res_blocks"]):
            res(f"downBlock.{index}.0", ch, w * m); ch = w * m; index += 1
        if level < levels - 1:
            conv(f"downBlock.{index}.0.op", ch, ch, 3); stages.append(("conv", f"downBlock.{index}.0.op", 2))
            stages.append(("save", level)); index += 1
    stages.append(("save", levels - 1))
    for i in range(2): res(f"middleBlock.{i}.0", ch, ch)
    stages.append(("add", levels - 1))
    index = 0
    for level in range(levels):
        out = w * mults[levels - 2 - level] if level < levels - 1 else w
        for _ in range(config["res_blocks"]):
            res(f"upBlock.{index}.0", ch, out); ch = out; index += 1
        if level > 0:
            name = f"upBlock.{index}.0.op"
            shapes[name + ".weight"] = (ch, ch, 3, 3); shapes[name + ".bias"] = (ch,)
            stages.append(("up", name)); index += 1
        if level < levels - 1: stages.append(("add", levels - 2 - level))
    norm("outBlock.0", ch); conv("outBlock.2", ch, config["image_channels"], 3)
    return shapes, stages, cin, groups


def random_weights(config, seed):
    shapes, _, _, _ = layout(config)
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in shapes.items():
        if name.endswith(".bias"):
            out[name] = 0.05 * rng.standard_normal(shape)
        elif len(shape) == 1:  # GroupNorm gamma
            out[name] = 1 + 0.1 * rng.standard_normal(shape)
        else:
            fan_in = shape[1] * (shape[2] * shape[3] if len(shape) == 4 else 1)
            out[name] = rng.standard_normal(shape) / math.sqrt(fan_in)
    return {k: v.astype(np.float32) for k, v in out.items()}


def sinusoid(t, channels):
    """SinusoidalEmbedding.forward: [cos(t·f_i), sin(t·f_i)], f_i = exp(−ln(10⁴)·i/half)."""
    half = channels // 2
    f = np.exp(np.float32(-math.log(10000.0)) * np.arange(half, dtype=np.float32) / np.float32(half)).astype(np.float32)
    arg = np.float32(t) * f
    return np.concatenate([np.cos(arg), np.sin(arg)]).astype(np.float32)[None, :]


def build_graph(weights, config):
    """The U-Net as an ONNX model: inputs x [1, C, H, W] and the sinusoid [1, time_channels]."""
    shapes, stages, cin, groups = layout(config)
    nodes, inits, counter = [], [], [0]
    for name, value in weights.items():
        if value.ndim == 1 and ".weight" in name:
            continue  # GroupNorm γ (and its β below) enter as [1, C, 1, 1] constants
        if value.ndim == 1 and name.replace(".bias", ".weight") in weights and weights[name.replace(".bias", ".weight")].ndim == 1:
            continue
        inits.append(numpy_helper.from_array(value.astype(np.float32), name))
    def fresh(tag):
        counter[0] += 1
        return f"{tag}_{counter[0]}"
    def const(values, tag):
        name = fresh(tag); inits.append(numpy_helper.from_array(np.asarray(values), name)); return name
    def op(kind, inputs, **attrs):
        out = fresh(kind); nodes.append(helper.make_node(kind, inputs, [out], **attrs)); return out
    def silu(x): return op("Mul", [x, op("Sigmoid", [x])])
    def linear(x, name): return op("Gemm", [x, name + ".weight", name + ".bias"], transB=1)
    def conv(x, name, stride=1):
        k = weights[name + ".weight"].shape[2]
        return op("Conv", [x, name + ".weight", name + ".bias"], kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4)
    def group_norm(x, name, channels):
        g = min(groups, channels)
        # GroupNorm as PyTorch exports it: instance norm over [N, G, C/G·H·W], then the per-channel affine.
        shape = op("Shape", [x])
        grouped = op("Reshape", [x, const(np.array([0, g, -1], dtype=np.int64), "gshape")])
        normed = op("InstanceNormalization", [grouped, const(np.ones(g, np.float32), "ones"), const(np.zeros(g, np.float32), "zeros")], epsilon=1e-5)
        back = op("Reshape", [normed, shape])
        gamma = const(weights[name + ".weight"].reshape(1, channels, 1, 1), "gamma")
        beta = const(weights[name + ".bias"].reshape(1, channels, 1, 1), "beta")
        return op("Add", [op("Mul", [back, gamma]), beta])
    temb = linear(silu(linear("temb_in", "time_embed.0")), "time_embed.2")
    tact = silu(temb)
    x, skips = "x", {}
    for stage in stages:
        kind = stage[0]
        if kind == "conv":
            x = conv(x, stage[1], stage[2])
        elif kind == "res":
            _, p, i, o = stage
            h = conv(silu(group_norm(x, p + ".conv1.0", i)), p + ".conv1.2")
            shift = op("Unsqueeze", [linear(tact, p + ".time_emb.1"), const(np.array([2, 3], dtype=np.int64), "axes")])
            h = op("Add", [h, shift])
            h = conv(silu(group_norm(h, p + ".conv2.0", o)), p + ".conv2.3")
            x = op("Add", [conv(x, p + ".shortcut") if i != o else x, h])
        elif kind == "up":
            name = stage[1]
            x = op("ConvTranspose", [x, name + ".weight", name + ".bias"], kernel_shape=[3, 3], strides=[2, 2],
                   pads=[1, 1, 1, 1], output_padding=[1, 1])
        elif kind == "save":
            skips[stage[1]] = x
        elif kind == "add":
            x = op("Add", [x, skips[stage[1]]])
    y = conv(silu(group_norm(x, "outBlock.0", config["width"])), "outBlock.2")
    nodes.append(helper.make_node("Identity", [y], ["y"]))
    graph = helper.make_graph(
        nodes, "fusiondiff_unet",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, "H", "W"]),
         helper.make_tensor_value_info("temb_in", TensorProto.FLOAT, [1, config["time_channels"]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, config["image_channels"], "H", "W"])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def session(model, threads):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def ours_forward(focusd, model_path, x, t, tmp):
    np.save(os.path.join(tmp, "in.npy"), x)
    subprocess.run([focusd, "model", "forward", "--model", model_path, "--timestep", str(t),
                    "--input", os.path.join(tmp, "in.npy"), "--output", os.path.join(tmp, "out.npy")],
                   check=True, stdout=subprocess.DEVNULL)
    return np.load(os.path.join(tmp, "out.npy"))


def ours_seconds(focusd, width, size, threads):
    out = subprocess.run([focusd, "bench", "nn", "--widths", str(width), "--sizes", "16", "--unet-size", str(size),
                          "--threads", str(threads), "--runs", "3", "--report-width", str(width), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["widths"][str(width)]["unet_forward_seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = next((p for p in (os.path.join(root, ".build/release/focusd"), os.path.join(root, ".build/debug/focusd")) if os.path.exists(p)), "focusd")
    parser.add_argument("--focusd", default=default)
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ok = True
    print(f"onnxruntime {ort.__version__}, onnx {onnx.__version__}, {args.threads} thread(s), {args.size}², median of {args.runs}")

    # 1. Parity: the golden tiny model (the graph's layout against PyTorch's output).
    weights, config = read_safetensors(os.path.join(golden, "weights.safetensors"))
    x = np.load(os.path.join(golden, "input.npy")).astype(np.float32)
    y = session(build_graph(weights, config), 1).run(None, {"x": x, "temb_in": sinusoid(1234, config["time_channels"])})[0]
    worst = float(np.abs(y - np.load(os.path.join(golden, "output.npy"))).max())
    print(f"parity golden fusiondiff-tiny (ORT vs PyTorch golden): max |difference| {worst:.3g}")
    ok &= worst <= 1e-4

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for width in args.widths:
            config = small_config(width)
            weights = random_weights(config, seed=width)
            path = os.path.join(tmp, f"w{width}.safetensors")
            write_safetensors(path, weights, config)
            model = build_graph(weights, config)
            # 2. Parity with focusd on the same weights (64², t = 700).
            rng = np.random.default_rng(1)
            x = rng.uniform(-1, 1, (1, 3, 64, 64)).astype(np.float32)
            ref = session(model, args.threads).run(None, {"x": x, "temb_in": sinusoid(700, width)})[0]
            ours = ours_forward(args.focusd, path, x, 700, tmp)
            diff = float(np.abs(ours - ref).max())
            scale = float(np.abs(ref).max())
            print(f"parity width {width} (focusd vs ORT, 64², random weights): max |difference| {diff:.3g} (output max {scale:.3g})")
            ok &= diff <= 1e-3 * max(1.0, scale)
            # 3. Timing, alternating ORT and focusd so that load drift hits both.
            s = session(model, args.threads)
            big = rng.uniform(-1, 1, (1, 3, args.size, args.size)).astype(np.float32)
            feed = {"x": big, "temb_in": sinusoid(700, width)}
            s.run(None, feed)  # warm-up
            ort_times, our_times = [], []
            for _ in range(args.runs):
                start = time.perf_counter(); s.run(None, feed); ort_times.append(time.perf_counter() - start)
                our_times.append(ours_seconds(args.focusd, width, args.size, args.threads))
            o, f = float(np.median(ort_times)), float(np.median(our_times))
            rows.append((width, o, f))
            print(f"width {width}: ORT {o:.3f} s ({', '.join(f'{t:.3f}' for t in ort_times)}), "
                  f"focusd {f:.3f} s ({', '.join(f'{t:.3f}' for t in our_times)}), focusd ÷ ORT = {f / o:.2f}")
    print("width  ORT s   focusd s  focusd/ORT  (target ≤ 0.75)")
    for width, o, f in rows:
        print(f"{width:5d}  {o:6.3f}  {f:8.3f}  {f / o:10.2f}")
    try:
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    except OSError:
        pass
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
