#!/usr/bin/python3
"""Checks `npuvp run --input --dump` against the ONNX operator specification.

Usage:
  onnx_spec_check.py models OUTDIR
      writes spec_float.onnx (Conv+Relu, strided 1x1 Conv, Flatten, Gemm) with
      spec_float_input.npy, spec_qdq.onnx (the QDQ form: Conv between
      DequantizeLinear and QuantizeLinear, int8 per-channel weights, int32
      biases; an Add, AveragePool and GlobalAveragePool) with spec_qdq_input.npy, and qlinear_int8.onnx
      and qlinear_uint8.onnx (tests/sw/make_onnx_models.py) with
      qlinear_input.npy, qlinear_input_codes.npy (int8 codes) and
      qlinear_input_ucodes.npy (uint8 codes)
  onnx_spec_check.py check MODEL INPUT DUMPDIR REPORT
      recomputes every layer of the dump from its input tensor as dumped, with a
      small numpy implementation of QuantizeLinear, QLinearConv, QLinearMatMul
      (Conv/Gemm of a float model, quantized with the manifest's activation
      parameters and symmetric per-channel weights; a QDQ Conv as the
      QLinearConv it stands for; a QDQ Add in float32; average pools as the
      codes' average rounded half to even) and DequantizeLinear, and
      fails unless
        - the input dump is QuantizeLinear(INPUT) (or INPUT itself for codes),
        - per conv/FC/add/average-pool layer, the elements that differ from the spec are exactly
          report.json's layers[].onnx_spec_mismatches, and each differs by 1,
        - output.npy is DequantizeLinear of the last layer's dump.

The operators follow the ONNX specification: float32 scale products
(x_scale * w_scale / y_scale), round half to even, saturation to int8.
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sw"))
import make_onnx_models  # noqa: E402


# ----------------------------------------------------------------- the operators

def saturate(y, unsigned):
    return np.clip(y, 0, 255).astype(np.uint8) if unsigned else np.clip(y, -128, 127).astype(np.int8)


def quantize_linear(x, scale, zp, unsigned=False):
    q = np.round(x.astype(np.float32) / np.float32(scale)) + zp  # np.round: half to even
    return saturate(q, unsigned)


def dequantize_linear(q, scale, zp):
    return ((q.astype(np.int32) - zp).astype(np.float32) * np.float32(scale)).astype(np.float32)


def requantize(acc, x_scale, w_scale, y_scale, y_zp, unsigned=False):
    """QLinearConv / QLinearMatMul output: acc (int64, channel axis 1) to int8 (uint8)."""
    m = (np.float32(x_scale) * np.asarray(w_scale, np.float32)) / np.float32(y_scale)
    shape = (1, -1) + (1,) * (acc.ndim - 2)
    y = np.round(acc.astype(np.float64) * m.astype(np.float64).reshape(shape)) + y_zp
    return saturate(y, unsigned)


def qlinear_conv(xq, x_zp, wq, bias, attrs, w_zp=0):
    x = xq.astype(np.int64) - x_zp
    wq = wq.astype(np.int64) - np.asarray(w_zp, np.int64).reshape((-1,) + (1,) * (wq.ndim - 1))
    acc = make_onnx_models.conv2d(x.astype(np.float64), wq.astype(np.float64), None,
                                  stride=tuple(attrs.get("strides", [1, 1])), pads=tuple(attrs.get("pads", [0] * 4)),
                                  dilation=tuple(attrs.get("dilations", [1, 1])), group=attrs.get("group", 1))
    acc = np.rint(acc).astype(np.int64)  # exact: integer sums far below 2^53
    if bias is not None:
        acc += bias.astype(np.int64).reshape(1, -1, 1, 1)
    return acc


def symmetric_per_channel(w):
    """A float model's weights as the quantizer takes them: max|w| / 127 per output channel."""
    flat = w.reshape(w.shape[0], -1)
    scale = np.abs(flat).max(axis=1).astype(np.float32) / np.float32(127)
    scale[scale == 0] = 1
    q = np.clip(np.round(flat / scale[:, None]), -127, 127).astype(np.int8)
    return q.reshape(w.shape), scale


# ----------------------------------------------------------------- models

def spec_float(out):
    rng = np.random.default_rng(77)
    inits = []
    init = lambda name, a: make_onnx_models.init(name, a, inits)  # noqa: E731
    w1, b1 = make_onnx_models.he(rng, (8, 3, 3, 3)), make_onnx_models.small(rng, 8)
    w2, b2 = make_onnx_models.he(rng, (6, 8, 1, 1)), make_onnx_models.small(rng, 6)
    wf, bf = make_onnx_models.he(rng, (5, 6 * 6 * 6)), make_onnx_models.small(rng, 5)
    nodes = [
        helper.make_node("Conv", ["x", init("w1", w1), init("b1", b1)], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", init("w2", w2), init("b2", b2)], ["c2"], name="conv2", strides=[2, 2]),
        helper.make_node("Flatten", ["c2"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", init("wf", wf), init("bf", bf)], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(nodes, "spec_float", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 12, 12])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], inits)
    make_onnx_models.save_model(graph, os.path.join(out, "spec_float.onnx"), 13)
    np.save(os.path.join(out, "spec_float_input.npy"), rng.uniform(-1, 1, (1, 3, 12, 12)).astype(np.float32))


def spec_qdq(out):
    """int8 QDQ: Q -> DQ -> Conv(DQ(w), DQ(b)) -> Relu -> Q -> DQ -> Conv (stride 2) -> Q -> DQ."""
    rng = np.random.default_rng(79)
    inits, nodes = [], []
    init = lambda name, a: make_onnx_models.init(name, a, inits)  # noqa: E731
    node = lambda *a, **k: nodes.append(helper.make_node(*a, **k))  # noqa: E731

    def act(tensor, scale, zp, name):
        s, z = init(name + "_s", np.array(scale, np.float32)), init(name + "_z", np.array(zp, np.int8))
        node("QuantizeLinear", [tensor, s, z], [name + "_q"], name=name + "_quant")
        node("DequantizeLinear", [name + "_q", s, z], [name + "_dq"], name=name + "_dequant")
        return name + "_dq", np.float32(scale)

    def const(name, q, scale):
        zero = np.zeros(scale.shape, np.int32 if q.dtype == np.int32 else np.int8)
        node("DequantizeLinear", [init(name, q), init(name + "_s", scale), init(name + "_z", zero)], [name + "_dq"],
             name=name + "_dequant", axis=0)
        return name + "_dq"

    x, xs = act("x", 0.0123, 3, "xin")
    w1, s1 = make_onnx_models.qweights(rng, (8, 3, 3, 3))
    b1 = np.round(make_onnx_models.small(rng, 8) / (xs * s1)).astype(np.int32)
    node("Conv", [x, const("w1", w1, s1), const("b1", b1, (xs * s1).astype(np.float32))], ["c1"], name="conv_a",
         pads=[1, 1, 1, 1])
    node("Relu", ["c1"], ["r1"], name="relu_a")
    y1, ys1 = act("r1", 0.021, -128, "y1")
    w2, s2 = make_onnx_models.qweights(rng, (6, 8, 1, 1))
    b2 = np.round(make_onnx_models.small(rng, 6) / (ys1 * s2)).astype(np.int32)
    node("Conv", [y1, const("w2", w2, s2), const("b2", b2, (ys1 * s2).astype(np.float32))], ["c2"], name="conv_b",
         strides=[2, 2])
    y2, _ = act("c2", 0.04, 7, "y2")
    # A second branch at half y2's scale: their sum over y2's scale lands on a tie whenever
    # a code of c3 is odd, where ONNX rounds half to even and the NPU away from zero.
    w3, s3 = make_onnx_models.qweights(rng, (6, 8, 1, 1))
    b3 = np.round(make_onnx_models.small(rng, 6) / (ys1 * s3)).astype(np.int32)
    node("Conv", [y1, const("w3", w3, s3), const("b3", b3, (ys1 * s3).astype(np.float32))], ["c3"], name="conv_c",
         strides=[2, 2])
    y3, _ = act("c3", 0.02, -4, "y3")
    node("Add", [y2, y3], ["s"], name="add")
    node("Relu", ["s"], ["sr"], name="relu_add")
    y4, _ = act("sr", 0.04, -20, "y4")
    node("AveragePool", [y4], ["p"], name="avgpool", kernel_shape=[2, 2], strides=[1, 1])
    y5, _ = act("p", 0.04, -20, "y5")  # a pool keeps its input's parameters
    node("GlobalAveragePool", [y5], ["g"], name="gap")
    act("g", 0.04, -20, "y6")
    graph = helper.make_graph(nodes, "spec_qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 10, 10])],
                              [helper.make_tensor_value_info("y6_dq", TensorProto.FLOAT, [1, 6, 1, 1])], inits)
    make_onnx_models.save_model(graph, os.path.join(out, "spec_qdq.onnx"), 13)
    np.save(os.path.join(out, "spec_qdq_input.npy"), rng.uniform(-1.6, 1.6, (1, 3, 10, 10)).astype(np.float32))


def models(out):
    os.makedirs(out, exist_ok=True)
    spec_float(out)
    spec_qdq(out)
    make_onnx_models.qlinear(out, False)
    make_onnx_models.qlinear(out, True)
    rng = np.random.default_rng(78)
    np.save(os.path.join(out, "qlinear_input.npy"), rng.uniform(-1.3, 1.3, (1, 4, 8, 8)).astype(np.float32))
    np.save(os.path.join(out, "qlinear_input_codes.npy"), rng.integers(-128, 128, (1, 4, 8, 8)).astype(np.int8))
    np.save(os.path.join(out, "qlinear_input_ucodes.npy"), rng.integers(0, 256, (1, 4, 8, 8)).astype(np.uint8))


# ----------------------------------------------------------------- the check

class Dump:
    def __init__(self, directory):
        self.dir = directory
        manifest = json.load(open(os.path.join(directory, "manifest.json")))
        self.files = {f["layer"]: f for f in manifest["files"] if f["file"] != "output.npy"}
        self.order = [f["layer"] for f in manifest["files"] if f["file"] != "output.npy"]
        self.output = [f for f in manifest["files"] if f["file"] == "output.npy"][0]

    def codes(self, layer):
        a = np.load(os.path.join(self.dir, self.files[layer]["file"]))
        assert a.dtype == np.int8 and list(a.shape) == self.files[layer]["shape"], layer
        return a

    def qparams(self, layer):
        return np.float32(self.files[layer]["scale"]), self.files[layer]["zero_point"]


def check(model_path, input_path, dump_dir, report_path):
    model = onnx.load(model_path)
    consts = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    dump = Dump(dump_dir)
    report = {l["name"]: l for l in json.load(open(report_path))["layers"]}
    producer = {model.graph.input[0].name: dump.order[0]}  # ONNX tensor -> dumped layer
    failures, compared = [], 0
    x = np.load(input_path)
    in_scale, in_zp = dump.qparams(dump.order[0])

    def compare(layer, spec):
        nonlocal compared
        # The runtime stores a uint8 tensor as int8 with its zero point moved by -128.
        got = dump.codes(layer).reshape(spec.shape).astype(np.int32) + (128 if spec.dtype == np.uint8 else 0)
        differ = int((got != spec).sum())
        want = report[layer].get("onnx_spec_mismatches")
        if differ != want:
            failures.append(f"{layer}: {differ} elements differ from the spec, report says {want}")
        if differ and np.abs(got.astype(int) - spec.astype(int)).max() > 1:
            failures.append(f"{layer}: an element differs from the spec by more than 1")
        compared += 1
        print(f"{layer}: {spec.size} elements, {differ} differ from the ONNX spec")

    qconst = {}  # QDQ: a DequantizeLinear'd initializer -> (int values, scales)
    act_q = {}  # a DequantizeLinear'd activation -> its (scale, zero point)
    pending = {}  # QDQ: a float Conv output (and the Relu on it) -> what its QuantizeLinear needs
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        src = producer.get(node.input[0]) if node.input else None
        if node.op_type == "QuantizeLinear" and node.input[0] in pending:  # a QDQ operator's output
            p = pending[node.input[0]]
            ys, yz = consts[node.input[1]], int(consts[node.input[2]])
            spec = p["spec"](ys, yz)
            compare(p["layer"], np.maximum(spec, np.int8(yz)) if p["relu"] else spec)
            producer[node.output[0]] = p["layer"]
        elif node.op_type == "QuantizeLinear":
            scale, zp = consts[node.input[1]], consts[node.input[2]]
            spec = x if x.dtype != np.float32 else quantize_linear(x, scale, int(zp), zp.dtype == np.uint8)
            if not np.array_equal(dump.codes(src).astype(np.int32) + (128 if spec.dtype == np.uint8 else 0), spec):
                failures.append("the input dump is not QuantizeLinear(--input)")
            producer[node.output[0]] = src
        elif node.op_type == "DequantizeLinear" and node.input[0] in consts:
            qconst[node.output[0]] = (consts[node.input[0]], np.atleast_1d(consts[node.input[1]]))
        elif node.op_type == "Conv" and node.input[1] in qconst:
            (w, ws), (b, _) = qconst[node.input[1]], qconst[node.input[2]]
            xs, xz = act_q[node.input[0]]
            acc, ws = qlinear_conv(dump.codes(src), xz, w, b, attrs), np.broadcast_to(ws, (w.shape[0],))
            pending[node.output[0]] = {"layer": node.name, "relu": False,
                                       "spec": lambda ys, yz, acc=acc, xs=xs, ws=ws: requantize(acc, xs, ws, ys, yz)}
        elif node.op_type == "Add":  # QDQ: DequantizeLinear, Add, QuantizeLinear, all in float32
            (sa, za), (sb, zb) = act_q[node.input[0]], act_q[node.input[1]]
            a, b = dump.codes(src).astype(np.int32), dump.codes(producer[node.input[1]]).astype(np.int32)
            real = (a - za).astype(np.float32) * sa + (b - zb).astype(np.float32) * sb
            pending[node.output[0]] = {"layer": node.name, "relu": False,
                                       "spec": lambda ys, yz, real=real: saturate(np.round(real / np.float32(ys)) + yz,
                                                                                  False)}
        elif node.op_type in ("AveragePool", "GlobalAveragePool"):
            # The average of the real values, quantized with the input's own parameters: the
            # codes' average (exact in float64 for these window sizes), rounded half to even.
            codes = dump.codes(src).astype(np.float64)
            if node.op_type == "GlobalAveragePool":
                mean = codes.mean(axis=(2, 3), keepdims=True)
            else:
                k, st = attrs["kernel_shape"][0], attrs.get("strides", [1, 1])[0]
                mean = make_onnx_models.pool(codes, k, st, attrs.get("pads", [0] * 4), "avg")
            pending[node.output[0]] = {"layer": node.name, "relu": False,
                                       "spec": lambda ys, yz, mean=mean: saturate(np.round(mean), False)}
        elif node.op_type == "Relu" and node.input[0] in pending:
            pending[node.output[0]] = dict(pending[node.input[0]], relu=True)
        elif node.op_type == "QLinearConv":
            xs, xz = consts[node.input[1]], consts[node.input[2]]
            w, ws, wz = consts[node.input[3]], consts[node.input[4]], consts[node.input[5]]
            ys, yz = consts[node.input[6]], consts[node.input[7]]
            bias = consts[node.input[8]] if len(node.input) > 8 else None
            xq = dump.codes(src).astype(np.int32) + (128 if xz.dtype == np.uint8 else 0)
            acc = qlinear_conv(xq, int(xz), w, bias, attrs, wz)
            compare(node.name, requantize(acc, xs, np.broadcast_to(ws, (w.shape[0],)), ys, int(yz), yz.dtype == np.uint8))
            producer[node.output[0]] = node.name
        elif node.op_type in ("Conv", "Gemm"):
            xs, xz = dump.qparams(src)
            ys, yz = dump.qparams(node.name)
            w = consts[node.input[1]]
            wq, ws = symmetric_per_channel(w)
            b = consts[node.input[2]]
            bias = np.round(b.astype(np.float64) / (np.float32(xs) * ws).astype(np.float64)).astype(np.int64)
            xq = dump.codes(src)
            if node.op_type == "Conv":
                acc = qlinear_conv(xq, xz, wq, bias, attrs)
            else:  # QLinearMatMul of the NCHW flattening, bias added
                acc = (xq.reshape(1, -1).astype(np.int64) - xz) @ wq.astype(np.int64).T + bias
            spec = requantize(acc, xs, ws, ys, yz)
            consumers = [n for n in model.graph.node if node.output[0] in n.input]
            if len(consumers) == 1 and consumers[0].op_type == "Relu":  # the fused ReLU: clamp at real 0
                spec = np.maximum(spec, np.int8(yz))
            compare(node.name, spec)
            producer[node.output[0]] = node.name
        elif node.op_type == "DequantizeLinear":
            act_q[node.output[0]] = (np.float32(consts[node.input[1]]), int(consts[node.input[2]]))
            producer[node.output[0]] = src
        elif node.op_type == "Relu":
            if not np.array_equal(dump.codes(node.name), dump.codes(src)):
                failures.append(f"{node.name}: differs from {src}, which it is fused into")
            producer[node.output[0]] = node.name
        elif node.op_type == "Flatten":  # dumped in ONNX's CHW order
            if not np.array_equal(dump.codes(node.name).ravel(), dump.codes(src).ravel()):
                failures.append(f"{node.name}: is not the CHW flattening of {src}")
            producer[node.output[0]] = node.name
        else:
            failures.append(f"node {node.name}: operator {node.op_type} not implemented by this check")
        if x.dtype == np.float32 and node is model.graph.node[0] and node.op_type != "QuantizeLinear":
            # A float model: the host quantizes the input as QuantizeLinear does.
            if not np.array_equal(dump.codes(dump.order[0]), quantize_linear(x, in_scale, in_zp)):
                failures.append("the input dump is not QuantizeLinear(--input)")

    last = dump.order[-1]
    scale, zp = dump.qparams(last)
    out = np.load(os.path.join(dump_dir, "output.npy"))
    if out.dtype != np.float32 or not np.array_equal(out, dequantize_linear(dump.codes(last), scale, zp)):
        failures.append("output.npy is not DequantizeLinear of the last layer's dump")
    if compared < 2:
        failures.append(f"only {compared} layers compared")
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "models":
        models(sys.argv[2])
        return 0
    if len(sys.argv) == 6 and sys.argv[1] == "check":
        return check(*sys.argv[2:])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
