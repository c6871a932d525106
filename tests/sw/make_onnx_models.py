#!/usr/bin/python3
"""Writes the ONNX models of tests/sw/onnx_import_test.cpp into OUTDIR.

Usage: make_onnx_models.py OUTDIR

Models (weights numpy-random from fixed seeds, so every run writes the same
bytes):
  float_cnn.onnx       float CNN: conv+bn+relu, depthwise conv + Clip(0, 6),
                       dilated conv, residual add, concat, channel shuffle
                       (Reshape/Transpose/Reshape), max pool (ceil_mode),
                       average pool (count_include_pad), global average pool,
                       Flatten, Reshape [1, -1], Gemm (transB 1 and 0),
                       MatMul + Add
  float_cnn_input.bin  its input, float32 NCHW [1, 3, 32, 32]
  float_cnn_output.bin its output from the numpy reference below, float32 [1, 6]
  float_cnn.json       expected total params, MACs, output shape, layer count
  clip_attr.onnx       opset 10 Clip with min/max attributes (ReLU6 and ReLU)
  unsupported.onnx     a Softmax node named 'softmax1'
  qdq_cnn.onnx         int8 QDQ CNN: per-channel conv weights, int32 biases,
                       fused Relu, max/average/global pools, add, concat of
                       differently quantized inputs, flatten, Gemm
  qdq_cnn_input.bin    an input for it, float32 NCHW [1, 3, 16, 16]
  qdq_cnn_output_int8.bin  its int8 output codes [1, 10] from a float64
                       simulation of the QDQ semantics
  bias_zero_point_overflow.onnx  a QDQ convolution whose int32 bias less its
                       zero point leaves int32
  qlinear_int8.onnx    QLinearConv x2 between QuantizeLinear/DequantizeLinear
  qlinear_uint8.onnx   the same with uint8 activations (zero points + 128)
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


# ----------------------------------------------------------------- numpy reference (NCHW, batch 1)

def conv2d(x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), group=1):
    n, c, h, wd = x.shape
    o, ig, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (h + pads[0] + pads[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + pads[1] + pads[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, oh, ow), dtype=np.float64)
    og = o // group
    for g in range(group):
        xs = xp[:, g * ig:(g + 1) * ig]
        ws = w[g * og:(g + 1) * og].astype(np.float64)
        for ky in range(kh):
            for kx in range(kw):
                y0, x0 = ky * dilation[0], kx * dilation[1]
                patch = xs[:, :, y0:y0 + stride[0] * (oh - 1) + 1:stride[0], x0:x0 + stride[1] * (ow - 1) + 1:stride[1]]
                out[:, g * og:(g + 1) * og] += np.einsum("nihw,oi->nohw", patch, ws[:, :, ky, kx])
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def pool(x, k, s, pads, mode, ceil_mode=False, count_include_pad=False):
    n, c, h, w = x.shape

    def extent(size, pb, pe):
        span = size + pb + pe - k
        return (-(-span // s) if ceil_mode else span // s) + 1

    oh, ow = extent(h, pads[0], pads[2]), extent(w, pads[1], pads[3])
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y0, x0 = i * s - pads[0], j * s - pads[1]
            ys, xs = max(y0, 0), max(x0, 0)
            ye, xe = min(y0 + k, h), min(x0 + k, w)
            win = x[:, :, ys:ye, xs:xe]
            if mode == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            else:
                count = k * k if count_include_pad else (ye - ys) * (xe - xs)
                out[:, :, i, j] = win.sum(axis=(2, 3)) / count
    return out


def batch_norm(x, g, b, m, v, eps):
    r = lambda a: a.reshape(1, -1, 1, 1)
    return (x - r(m)) / np.sqrt(r(v) + eps) * r(g) + r(b)


def relu(x):
    return np.maximum(x, 0)


# ----------------------------------------------------------------- helpers

def init(name, array, inits):
    inits.append(numpy_helper.from_array(array, name))
    return name


def he(rng, shape):
    fan_in = int(np.prod(shape[1:]))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def small(rng, n):
    return rng.uniform(-0.1, 0.1, n).astype(np.float32)


def save_model(graph, path, opset):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="npuvp-test")
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)


# ----------------------------------------------------------------- float CNN

def float_cnn(out):
    rng = np.random.default_rng(1234)
    inits, nodes = [], []
    node = lambda *a, **k: nodes.append(helper.make_node(*a, **k))
    params = 0
    macs = 0

    w1 = he(rng, (16, 3, 3, 3))
    g1, b1 = rng.uniform(0.5, 1.5, 16).astype(np.float32), small(rng, 16)
    m1, v1 = small(rng, 16), rng.uniform(0.5, 1.5, 16).astype(np.float32)
    wd, bd = he(rng, (16, 1, 3, 3)), small(rng, 16)
    wp, bp = he(rng, (24, 16, 1, 1)), small(rng, 24)
    wdl, bdl = he(rng, (24, 24, 3, 3)) * 0.5, small(rng, 24)
    wh, bh = he(rng, (8, 40, 1, 1)), small(rng, 8)
    wg1, bg1 = he(rng, (10, 128)), small(rng, 10)  # Gemm transB=1: [N, K]
    wg2, bg2 = he(rng, (10, 40)).T.copy(), small(rng, 10)  # Gemm transB=0: [K, N]
    wm, bm = he(rng, (6, 10)).T.copy(), small(rng, 6)  # MatMul: [K, N]
    params += w1.size + 2 * 16 + wd.size + 16 + wp.size + 24 + wdl.size + 24 + wh.size + 8
    params += wg1.size + 10 + wg2.size + 10 + wm.size + 6
    macs += 16 * 27 * 32 * 32 + 16 * 9 * 16 * 16 + 24 * 16 * 16 * 16 + 24 * 24 * 9 * 16 * 16 + 8 * 40 * 4 * 4
    macs += 128 * 10 + 40 * 10 + 10 * 6

    node("Conv", ["x", init("w1", w1, inits)], ["c1"], name="conv1", pads=[1, 1, 1, 1], kernel_shape=[3, 3])
    node("BatchNormalization", ["c1", init("g1", g1, inits), init("b1", b1, inits), init("m1", m1, inits),
                                init("v1", v1, inits)], ["bn1"], name="bn1", epsilon=1e-3)
    node("Relu", ["bn1"], ["r1"], name="relu1")
    node("Conv", ["r1", init("wd", wd, inits), init("bd", bd, inits)], ["dw"], name="dw", group=16,
         strides=[2, 2], pads=[1, 1, 1, 1])
    node("Clip", ["dw", init("zero", np.array(0, np.float32), inits), init("six", np.array(6, np.float32), inits)],
         ["d6"], name="dw_relu6")
    node("Conv", ["d6", init("wp", wp, inits), init("bp", bp, inits)], ["pw"], name="pw")
    node("Relu", ["pw"], ["p"], name="pw_relu")
    node("Conv", ["p", init("wdl", wdl, inits), init("bdl", bdl, inits)], ["dil"], name="dilated",
         dilations=[2, 2], pads=[2, 2, 2, 2])
    node("Add", ["p", "dil"], ["res"], name="residual")
    node("Relu", ["res"], ["r"], name="res_relu")
    node("Concat", ["r", "d6"], ["cat"], name="cat", axis=1)
    node("Reshape", ["cat", init("shape5", np.array([1, 2, 20, 16, 16], np.int64), inits)], ["s5"], name="shuf_a")
    node("Transpose", ["s5"], ["s5t"], name="shuf_t", perm=[0, 2, 1, 3, 4])
    node("Reshape", ["s5t", init("shape4", np.array([1, -1, 16, 16], np.int64), inits)], ["shuf"], name="shuf_b")
    node("MaxPool", ["shuf"], ["mp"], name="maxpool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    node("AveragePool", ["mp"], ["ap"], name="avgpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
         count_include_pad=1)
    node("Conv", ["ap", init("wh", wh, inits), init("bh", bh, inits)], ["head"], name="head")
    node("Flatten", ["head"], ["hf"], name="flatten", axis=1)
    node("Gemm", ["hf", init("wg1", wg1, inits), init("bg1", bg1, inits)], ["fc1"], name="fc1", transB=1)
    node("GlobalAveragePool", ["ap"], ["gap"], name="gap")
    node("Reshape", ["gap", init("shape2", np.array([1, -1], np.int64), inits)], ["gf"], name="gap_flat")
    node("Gemm", ["gf", init("wg2", wg2, inits), init("bg2", bg2, inits)], ["fc2"], name="fc2")
    node("Add", ["fc1", "fc2"], ["fsum"], name="fc_sum")
    node("Relu", ["fsum"], ["fr"], name="fc_relu")
    node("MatMul", ["fr", init("wm", wm, inits)], ["mm"], name="fc3")
    node("Add", ["mm", init("bm", bm, inits)], ["y"], name="fc3_bias")

    graph = helper.make_graph(nodes, "float_cnn",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])], inits)
    save_model(graph, os.path.join(out, "float_cnn.onnx"), 13)

    x = np.random.default_rng(99).uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32)
    t = relu(batch_norm(conv2d(x, w1, pads=(1, 1, 1, 1)), g1, b1, m1, v1, 1e-3))
    d6 = np.clip(conv2d(t, wd, bd, stride=(2, 2), pads=(1, 1, 1, 1), group=16), 0, 6)
    p = relu(conv2d(d6, wp, bp))
    r = relu(p + conv2d(p, wdl, bdl, pads=(2, 2, 2, 2), dilation=(2, 2)))
    cat = np.concatenate([r, d6], axis=1)
    shuf = cat.reshape(1, 2, 20, 16, 16).transpose(0, 2, 1, 3, 4).reshape(1, 40, 16, 16)
    mp = pool(shuf, 3, 2, (0, 0, 0, 0), "max", ceil_mode=True)
    ap = pool(mp, 3, 2, (1, 1, 1, 1), "avg", count_include_pad=True)
    fc1 = conv2d(ap, wh, bh).reshape(1, -1) @ wg1.T + bg1
    fc2 = ap.mean(axis=(2, 3)).reshape(1, -1) @ wg2 + bg2
    y = relu(fc1 + fc2) @ wm + bm
    x.astype("<f4").tofile(os.path.join(out, "float_cnn_input.bin"))
    y.astype("<f4").tofile(os.path.join(out, "float_cnn_output.bin"))
    with open(os.path.join(out, "float_cnn.json"), "w") as f:
        json.dump({"params": int(params), "macs": int(macs), "output": [6, 1, 1], "nodes": len(nodes)}, f)


def clip_attr(out):
    rng = np.random.default_rng(7)
    inits = []
    nodes = [
        helper.make_node("Conv", ["x", init("w", he(rng, (4, 2, 1, 1)), inits)], ["c"], name="conv"),
        helper.make_node("Clip", ["c"], ["c6"], name="relu6", min=0.0, max=6.0),
        helper.make_node("Clip", ["c6"], ["y"], name="relu", min=0.0),
    ]
    graph = helper.make_graph(nodes, "clip_attr", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, 4])], inits)
    save_model(graph, os.path.join(out, "clip_attr.onnx"), 10)


def unsupported(out):
    rng = np.random.default_rng(8)
    inits = []
    nodes = [
        helper.make_node("Conv", ["x", init("w", he(rng, (4, 2, 1, 1)), inits)], ["c"], name="conv"),
        helper.make_node("Softmax", ["c"], ["y"], name="softmax1", axis=1),
    ]
    graph = helper.make_graph(nodes, "unsupported",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, 4])], inits)
    save_model(graph, os.path.join(out, "unsupported.onnx"), 13)


def nan_weights(out):
    # A float model whose second convolution has a NaN weight: quantizing it
    # must name the layer.
    rng = np.random.default_rng(9)
    inits = []
    w2 = he(rng, (4, 4, 1, 1))
    w2[1, 2, 0, 0] = np.nan
    nodes = [
        helper.make_node("Conv", ["x", init("w1", he(rng, (4, 2, 1, 1)), inits)], ["c1"], name="first"),
        helper.make_node("Conv", ["c1", init("w2", w2, inits)], ["y"], name="poisoned"),
    ]
    graph = helper.make_graph(nodes, "nan_weights",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, 4])], inits)
    save_model(graph, os.path.join(out, "nan_weights.onnx"), 13)


def nan_first_weights(out):
    # A NaN weight of the first output channel: the calibration pass's float
    # output starts with NaN, where it was called an overflow of the input.
    rng = np.random.default_rng(10)
    inits = []
    w = he(rng, (4, 2, 1, 1))
    w[0, 0, 0, 0] = np.nan
    nodes = [helper.make_node("Conv", ["x", init("w", w, inits)], ["y"], name="poisoned_first")]
    graph = helper.make_graph(nodes, "nan_first_weights",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, 4])], inits)
    save_model(graph, os.path.join(out, "nan_first_weights.onnx"), 13)


def wrapping_input_dims(out):
    # A graph input of height 2^32 + 8 once ran as height 8. The checker is
    # skipped, as for any hostile file.
    inits = []
    nodes = [helper.make_node("Conv", ["x", init("w", np.ones((4, 4, 1, 1), np.float32), inits)], ["y"], name="c")]
    graph = helper.make_graph(nodes, "wrapping_input_dims",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 2**32 + 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 2**32 + 8, 8])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="npuvp-test")
    model.ir_version = 7
    onnx.save(model, os.path.join(out, "wrapping_input_dims.onnx"))


def malformed_attributes(out):
    # A MaxPool without its required kernel_shape, and a Conv whose strides
    # are floats: each was read as an empty list. The checker is skipped.
    rng = np.random.default_rng(12)
    for name, node, inits in [
        ("pool_without_kernel", helper.make_node("MaxPool", ["x"], ["y"], name="pool"), []),
        ("float_strides", None, []),
        # A DequantizeLinear of a constant with no output: its output was read
        # regardless, which aborted in protobuf (fuzzer).
        ("node_without_output", helper.make_node("DequantizeLinear", ["q", "s"], [], name="dq"),
         [numpy_helper.from_array(np.array([1, 2], np.int8), "q"),
          numpy_helper.from_array(np.array(0.5, np.float32), "s")]),
        # A QuantizeLinear without its input x: it was read regardless, which
        # aborted in protobuf (fuzzer).
        ("quantize_without_input", helper.make_node("QuantizeLinear", [], ["y"], name="q"), []),
    ]:
        if node is None:
            node = helper.make_node("Conv", ["x", init("w", he(rng, (2, 2, 1, 1)), inits)], ["y"], name="conv")
            node.attribute.append(helper.make_attribute("strides", [1.0, 1.0]))
        graph = helper.make_graph([node], name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="npuvp-test")
        model.ir_version = 7
        onnx.save(model, os.path.join(out, name + ".onnx"))


def huge_dims(out):
    # An initializer whose dims multiply past 2^63 (4611686018427387914 x 4
    # wraps to 40 in 64 bits) with 40 values: it must be refused, not read as
    # a 10x4 matrix. The checker is skipped, as for any hostile file.
    b = TensorProto()  # by hand: helper.make_tensor checks the size
    b.name = "b"
    b.data_type = TensorProto.FLOAT
    b.dims.extend([4611686018427387914, 4])
    b.raw_data = np.zeros(40, np.float32).tobytes()
    nodes = [helper.make_node("Gemm", ["x", "b"], ["y"], name="fc", transB=1)]
    graph = helper.make_graph(nodes, "huge_dims",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], [b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="npuvp-test")
    model.ir_version = 7
    onnx.save(model, os.path.join(out, "huge_dims.onnx"))


# ----------------------------------------------------------------- quantized models

def qweights(rng, shape):
    """int8 symmetric weights, per output channel (axis 0) scales."""
    w = he(rng, shape)
    scale = (np.abs(w.reshape(shape[0], -1)).max(axis=1) / 127).astype(np.float32)
    q = np.clip(np.round(w / scale.reshape((-1,) + (1,) * (len(shape) - 1))), -127, 127).astype(np.int8)
    return q, scale


def qdq_cnn(out):
    rng = np.random.default_rng(4321)
    inits, nodes = [], []
    node = lambda *a, **k: nodes.append(helper.make_node(*a, **k))
    counter = [0]

    def qdq(tensor, scale, zp):
        """tensor -> QuantizeLinear -> DequantizeLinear; returns the DQ output."""
        counter[0] += 1
        k = counter[0]
        s = init(f"s{k}", np.array(scale, np.float32), inits)
        z = init(f"z{k}", np.array(zp, np.int8), inits)
        node("QuantizeLinear", [tensor, s, z], [f"{tensor}_q"], name=f"{tensor}_quant")
        node("DequantizeLinear", [f"{tensor}_q", s, z], [f"{tensor}_dq"], name=f"{tensor}_dequant")
        return f"{tensor}_dq"

    def wdq(name, q, scale, axis=0):
        deq[name] = q.astype(np.float64) * scale.reshape((-1,) + (1,) * (q.ndim - 1))
        node("DequantizeLinear", [init(name, q, inits), init(name + "_s", scale, inits),
                                  init(name + "_z", np.zeros(scale.shape, np.int8), inits)],
             [name + "_dq"], name=name + "_dequant", axis=axis)
        return name + "_dq"

    deq = {}  # dequantized weights and biases, for the numpy simulation

    def bdq(name, values, scale):
        b = np.round(values / scale).astype(np.int32)
        deq[name] = b.astype(np.float64) * scale
        node("DequantizeLinear", [init(name, b, inits), init(name + "_s", scale.astype(np.float32), inits),
                                  init(name + "_z", np.zeros(scale.shape, np.int32), inits)],
             [name + "_dq"], name=name + "_dequant", axis=0)
        return name + "_dq"

    s_in = 2.0 / 255
    x = qdq("x", s_in, -1)
    wa, sa = qweights(rng, (8, 3, 3, 3))
    node("Conv", [x, wdq("wa", wa, sa), bdq("ba", small(rng, 8), np.float32(s_in) * sa)], ["ca"], name="conv_a",
         pads=[1, 1, 1, 1])
    node("Relu", ["ca"], ["ra"], name="relu_a")
    s1 = 0.02
    ra = qdq("ra", s1, -128)
    node("MaxPool", [ra], ["mp"], name="maxpool", kernel_shape=[2, 2], strides=[2, 2])
    mp = qdq("mp", s1, -128)
    wb, sb = qweights(rng, (8, 1, 3, 3))
    node("Conv", [mp, wdq("wb", wb, sb), bdq("bb", small(rng, 8), np.float32(s1) * sb)], ["cb"], name="conv_dw",
         group=8, pads=[1, 1, 1, 1])
    cb = qdq("cb", 0.03, 3)
    node("Add", [mp, cb], ["sum"], name="residual")
    sm = qdq("sum", 0.04, -10)
    node("AveragePool", [sm], ["ap"], name="avgpool", kernel_shape=[2, 2], strides=[2, 2])
    ap = qdq("ap", 0.035, -8)  # differs from the pool input's: a requantization
    wc, sc = qweights(rng, (8, 8, 1, 1))
    node("Conv", [ap, wdq("wc", wc, sc)], ["cc"], name="conv_c")
    cc = qdq("cc", 0.05, 0)
    node("Concat", [ap, cc], ["cat"], name="cat", axis=1)
    cat = qdq("cat", 0.05, 0)
    node("GlobalAveragePool", [cat], ["gap"], name="gap")
    gap = qdq("gap", 0.05, 0)
    node("Flatten", [gap], ["flat"], name="flatten")
    wg, sg = qweights(rng, (10, 16))
    node("Gemm", ["flat", wdq("wg", wg, sg), bdq("bg", small(rng, 10), np.float32(0.05) * sg)], ["fc"], name="fc",
         transB=1)
    y = qdq("fc", 0.06, 2)
    node("Identity", [y], ["y"], name="output")

    graph = helper.make_graph(nodes, "qdq_cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    save_model(graph, os.path.join(out, "qdq_cnn.onnx"), 13)

    # The model's QDQ semantics simulated in float64 (ONNX rounds half to even)
    # on an input spanning the input's int8 range: the int8 output codes.
    def fq(t, scale, zp):
        q = np.clip(np.round(t / np.float32(scale)) + zp, -128, 127)
        return (q - zp) * np.float32(scale), q.astype(np.int8)

    xin = np.random.default_rng(77).uniform(s_in * -127, s_in * 128, (1, 3, 16, 16)).astype(np.float32)
    t, q_in = fq(xin.astype(np.float64), s_in, -1)
    ra_ = fq(relu(conv2d(t, deq["wa"], deq["ba"], pads=(1, 1, 1, 1))), s1, -128)[0]
    mp_ = fq(pool(ra_, 2, 2, (0, 0, 0, 0), "max"), s1, -128)[0]
    cb_ = fq(conv2d(mp_, deq["wb"], deq["bb"], pads=(1, 1, 1, 1), group=8), 0.03, 3)[0]
    sm_ = fq(mp_ + cb_, 0.04, -10)[0]
    ap_ = fq(pool(sm_, 2, 2, (0, 0, 0, 0), "avg"), 0.035, -8)[0]
    cc_ = fq(conv2d(ap_, deq["wc"]), 0.05, 0)[0]
    cat_ = fq(np.concatenate([ap_, cc_], axis=1), 0.05, 0)[0]
    gap_ = fq(cat_.mean(axis=(2, 3)), 0.05, 0)[0]
    _, y_q = fq(gap_ @ deq["wg"].T + deq["bg"], 0.06, 2)
    xin.astype("<f4").tofile(os.path.join(out, "qdq_cnn_input.bin"))
    y_q.tofile(os.path.join(out, "qdq_cnn_output_int8.bin"))


def qlinear(out, unsigned):
    rng = np.random.default_rng(55)
    inits, nodes = [], []
    shift = 128 if unsigned else 0
    zt = np.uint8 if unsigned else np.int8

    made = set()

    def sz(name, scale, zp):
        if name not in made:
            made.add(name)
            init(name + "_s", np.array(scale, np.float32), inits)
            init(name + "_z", np.array(zp + shift, zt), inits)
        return [name + "_s", name + "_z"]

    w1, s1 = qweights(rng, (8, 4, 3, 3))
    w2, s2 = qweights(rng, (8, 8, 1, 1))
    s2 = np.float32(s2.max())  # per-tensor weights
    w2 = np.clip(np.round(he(np.random.default_rng(56), (8, 8, 1, 1)) / s2), -127, 127).astype(np.int8)
    b1 = np.round(small(rng, 8) / (np.float32(0.01) * s1)).astype(np.int32)
    if unsigned:  # uint8 weights with zero point 128 for the second conv
        w2_t, w2_z = (w2.astype(np.int32) + 128).astype(np.uint8), np.array(128, np.uint8)
    else:
        w2_t, w2_z = w2, np.array(0, np.int8)
    x_sz = sz("x", 0.01, -3)
    nodes.append(helper.make_node("QuantizeLinear", ["x"] + x_sz, ["xq"], name="quant"))
    nodes.append(helper.make_node(
        "QLinearConv", ["xq"] + x_sz + [init("w1", w1, inits), init("w1_s", s1, inits),
                                        init("w1_z", np.zeros(8, np.int8), inits)] + sz("y1", 0.05, -20) +
        [init("b1", b1, inits)], ["y1"], name="qconv1", pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node(
        "QLinearConv", ["y1"] + sz("y1", 0.05, -20) + [init("w2", w2_t, inits), init("w2_s", np.array(s2), inits),
                                                      init("w2_z", w2_z, inits)] + sz("y2", 0.08, 5),
        ["y2"], name="qconv2"))
    nodes.append(helper.make_node("DequantizeLinear", ["y2"] + sz("y2", 0.08, 5), ["y"], name="dequant"))
    graph = helper.make_graph(nodes, "qlinear", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 8, 8])], inits)
    save_model(graph, os.path.join(out, "qlinear_uint8.onnx" if unsigned else "qlinear_int8.onnx"), 13)


def per_tensor_bias(out, name="per_tensor_bias", bias_zero=None):
    # A QDQ convolution whose int32 bias has one scale and no axis attribute:
    # ONNX ignores the default axis 1 for a per-tensor scale, so a 1-D bias
    # is valid; it was refused as "axis out of range". With `bias_zero`, the
    # bias's DequantizeLinear also has that zero point.
    rng = np.random.default_rng(11)
    inits = []
    weights_q = rng.integers(-127, 128, (8, 4, 3, 3)).astype(np.int8)
    bias_q = rng.integers(-1000, 1000, 8).astype(np.int32)
    bias_zero_input = []
    if bias_zero is not None:
        bias_zero_input = [init("bz", np.array(bias_zero, np.int32), inits)]
        bias_q[3] = np.iinfo(np.int32).min if bias_zero > 0 else np.iinfo(np.int32).max
    xs, ws, ys = np.float32(0.02), np.float32(0.01), np.float32(0.05)
    zero8 = np.int8(0)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", init("xs", np.array(xs), inits), init("xz", np.array(zero8), inits)],
                         ["xq"], name="xq"),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], name="xd"),
        helper.make_node("DequantizeLinear", [init("wq", weights_q, inits),
                                              init("ws", np.array(ws), inits), init("wz", np.array(zero8), inits)],
                         ["wd"], name="wd"),
        helper.make_node("DequantizeLinear", [init("bq", bias_q, inits), init("bs", np.array(xs * ws, np.float32), inits)]
                         + bias_zero_input, ["bd"], name="bd"),
        helper.make_node("Conv", ["xd", "wd", "bd"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("QuantizeLinear", ["c", init("ys", np.array(ys), inits), init("yz", np.array(zero8), inits)],
                         ["cq"], name="cq"),
        helper.make_node("DequantizeLinear", ["cq", "ys", "yz"], ["y"], name="y"),
    ]
    graph = helper.make_graph(nodes, name,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 8, 8])], inits)
    save_model(graph, os.path.join(out, name + ".onnx"), 13)


def huge_scale(out):
    """A QDQ convolution whose input scale is 1e30: its requantization
    multiplier does not fit, and the error must name the node."""
    rng = np.random.default_rng(7)
    inits, nodes = [], []
    w, ws = qweights(rng, (4, 3, 1, 1))
    for name, scale, zp in (("x", 1e30, 0), ("c", 0.02, 0)):
        init(f"{name}_s", np.array(scale, np.float32), inits)
        init(f"{name}_z", np.array(zp, np.int8), inits)
    init("w", w, inits)
    init("w_s", ws, inits)
    init("w_z", np.zeros(ws.shape, np.int8), inits)
    nodes += [helper.make_node("QuantizeLinear", ["x", "x_s", "x_z"], ["xq"], name="x_quant"),
              helper.make_node("DequantizeLinear", ["xq", "x_s", "x_z"], ["xdq"], name="x_dequant"),
              helper.make_node("DequantizeLinear", ["w", "w_s", "w_z"], ["wdq"], name="w_dequant", axis=0),
              helper.make_node("Conv", ["xdq", "wdq"], ["c"], name="conv_big"),
              helper.make_node("QuantizeLinear", ["c", "c_s", "c_z"], ["cq"], name="c_quant"),
              helper.make_node("DequantizeLinear", ["cq", "c_s", "c_z"], ["y"], name="c_dequant")]
    graph = helper.make_graph(nodes, "huge_scale",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, 4])], inits)
    save_model(graph, os.path.join(out, "huge_scale.onnx"), 13)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_onnx_models.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    float_cnn(out)
    clip_attr(out)
    unsupported(out)
    huge_dims(out)
    wrapping_input_dims(out)
    malformed_attributes(out)
    nan_weights(out)
    nan_first_weights(out)
    qdq_cnn(out)
    huge_scale(out)
    per_tensor_bias(out)
    per_tensor_bias(out, "bias_zero_point_overflow", bias_zero=2000000000)
    qlinear(out, False)
    qlinear(out, True)


if __name__ == "__main__":
    main()
