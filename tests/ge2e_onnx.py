"""The app's previous speaker model, rebuilt for the tests: Resemblyzer's weights as the ONNX
graph packaging/convert_ge2e.py used to ship (until the numpy net replaced ONNX Runtime in the
app). Built in a temporary folder and run with onnxruntime (a faster-whisper dependency), it
shows the numpy net gives the embeddings the speaker tuning was measured with. Needs onnx.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import onnx

N_MELS = 40
HIDDEN = 256
LAYERS = 3
PARTIAL_FRAMES = 160
OPSET = 17
IR_VERSION = 8  # the IR of opset 17
# sha256 of the .onnx the app shipped and its speaker tuning was measured with.
SHIPPED_ONNX_SHA256 = "f600ce576f0e93d35aa31528b072fd27ccbd0afec6b20fcb61b2692362c4d1b9"
# The shipped file's doc string, word for word: the bytes must come out the same.
DOC_STRING = (
    "GE2E voice encoder from resemblyzer 0.1.4 (resemblyzer/pretrained.pt, sha256 "
    "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e), Apache-2.0, Copyright "
    "2019 Resemble.AI. Converted to ONNX (gates reordered for ONNX LSTM); input: power mel "
    "spectrogram, not logged."
)


def onnx_gate_order(matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """torch stacks LSTM gates as i, f, g, o; ONNX as i, o, f, c (c is torch's g)."""
    i, f, g, o = np.split(matrix, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def build_model(weights: Mapping[str, npt.NDArray[np.float32]]) -> onnx.ModelProto:
    from onnx import TensorProto, checker, helper, numpy_helper

    initializers = [
        numpy_helper.from_array(np.array([0], np.int64), "axis0"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
    ]
    # ONNX Runtime's CPU LSTM is time-major only (layout=0).
    nodes = [helper.make_node("Transpose", ["mels"], ["x0"], perm=[1, 0, 2])]
    x = "x0"
    for layer in range(LAYERS):
        w = onnx_gate_order(weights[f"lstm.weight_ih_l{layer}"])[None]
        r = onnx_gate_order(weights[f"lstm.weight_hh_l{layer}"])[None]
        b = np.concatenate(
            [
                onnx_gate_order(weights[f"lstm.bias_ih_l{layer}"]),
                onnx_gate_order(weights[f"lstm.bias_hh_l{layer}"]),
            ]
        )[None]
        names = [f"lstm{layer}.W", f"lstm{layer}.R", f"lstm{layer}.B"]
        initializers += [
            numpy_helper.from_array(a, n) for a, n in zip((w, r, b), names, strict=True)
        ]
        if layer < LAYERS - 1:  # Y (time, 1, batch, hidden) feeds the next layer
            nodes.append(helper.make_node("LSTM", [x, *names], [f"y{layer}"], hidden_size=HIDDEN))
            nodes.append(helper.make_node("Squeeze", [f"y{layer}", "axis1"], [f"x{layer + 1}"]))
            x = f"x{layer + 1}"
        else:  # only the final hidden state of the last layer is used
            nodes.append(helper.make_node("LSTM", [x, *names], ["", "h_last"], hidden_size=HIDDEN))
    initializers += [
        numpy_helper.from_array(weights["linear.weight"], "linear.weight"),
        numpy_helper.from_array(weights["linear.bias"], "linear.bias"),
    ]
    nodes += [
        helper.make_node("Squeeze", ["h_last", "axis0"], ["hidden"]),
        helper.make_node(
            "Gemm", ["hidden", "linear.weight", "linear.bias"], ["projected"], transB=1
        ),
        helper.make_node("Relu", ["projected"], ["rectified"]),
        helper.make_node("LpNormalization", ["rectified"], ["embeds"], axis=1, p=2),
    ]
    graph = helper.make_graph(
        nodes,
        "ge2e_speaker_encoder",
        [
            helper.make_tensor_value_info(
                "mels", TensorProto.FLOAT, ["batch", PARTIAL_FRAMES, N_MELS]
            )
        ],
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["batch", HIDDEN])],
        initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="captionist packaging/convert_ge2e.py",
        producer_version="1",
        doc_string=DOC_STRING,
    )
    checker.check_model(model)
    return model
