"""Every value type runlog.wandb takes, read back bit for bit; real torch
tensors (one element, requires_grad, CHW images)."""
import math
import struct

import numpy as np
import pytest

import runlog


def f64_bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def f32(u):
    return np.frombuffer(struct.pack("<I", u), dtype=np.float32)[0]


def logged(wandb, values):
    """Logs {key: value} in one row each and returns the run read back."""
    r = wandb.init()
    for k, v in values.items():
        wandb.log({k: v}, step=0)
    path = r.path
    wandb.finish()
    return runlog.open(path)


def test_numpy_scalars_bit_for_bit(wandb):
    vals = {
        # float32 as tensors give them: widened exactly, NaN payloads kept
        "f32": np.float32(0.1), "f32_nan": f32(0x7FC01234), "f32_snan": f32(0x7F800001),
        "f32_inf": np.float32("-inf"), "f32_neg0": np.float32(-0.0), "f32_sub": f32(1),
        "f32_max": np.float32(np.finfo(np.float32).max),
        "f16": np.float16(0.333), "f64": np.float64(1 / 3), "f64_neg0": np.float64(-0.0),
        "f64_0d": np.array(math.pi), "f32_0d": np.array(np.float32(2.5)),
        "i8": np.int8(-128), "i16": np.int16(32767), "i32": np.int32(-2**31), "i64": np.int64(2**63 - 1),
        "i64_min": np.int64(-2**63), "u8": np.uint8(255), "u16": np.uint16(65535),
        "u32": np.uint32(2**32 - 1), "u64": np.uint64(2**63 - 1), "b": np.bool_(False),
    }
    run = logged(wandb, vals)
    for k, v in vals.items():
        got = run.history(k).values
        assert len(got) == 1, k
        g = got.tolist()[0]
        if k == "b":
            assert g is False
        elif np.asarray(v).dtype.kind == "f":
            assert f64_bits(g) == f64_bits(float(np.float64(v))), k
            assert run.history(k).values.dtype == np.float64
        else:
            assert g == int(v) and run.history(k).values.dtype == np.int64, k


def test_python_scalars_and_text_exact(wandb):
    vals = {"big": 2**63 - 1, "small": -2**63, "zero": 0, "t": True, "f": False, "none": None,
            "empty": "", "utf8": "naïve 日本 🙂", "ctrl": "\x01\t\x7f", "long": "é" * 100000,
            "neg0": -0.0, "tiny": 5e-324, "huge": 1.7976931348623157e308,
            "nan": struct.unpack("<d", struct.pack("<Q", 0xFFF800000000CAFE))[0]}
    run = logged(wandb, vals)
    for k, v in vals.items():
        g = run.history(k).values.tolist()[0]
        if isinstance(v, float):
            assert f64_bits(g) == f64_bits(v), k
        else:
            assert g == v and type(g) is type(v), k


def test_structured_values_floats_exact(wandb):
    # Inside dicts and lists floats travel as JSON text: finite ones come
    # back bit for bit (shortest round-trip repr), -0.0 included.
    xs = [0.1, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1 / 3, 1e22, 123456789.0]
    vals = {"list": xs, "nested": {"a": {"b": xs, "s": "x", "n": None, "t": True}},
            "np_small": np.array(xs), "ints": [0, -1, 2**63 - 1, -2**63]}
    run = logged(wandb, vals)
    assert [f64_bits(x) for x in run.history("list").values[0]] == [f64_bits(x) for x in xs]
    nested = run.history("nested").values[0]
    assert [f64_bits(x) for x in nested["a"]["b"]] == [f64_bits(x) for x in xs]
    assert nested["a"]["s"] == "x" and nested["a"]["n"] is None and nested["a"]["t"] is True
    assert [f64_bits(x) for x in run.history("np_small").values[0]] == [f64_bits(x) for x in xs]
    assert run.history("ints").values[0] == [0, -1, 2**63 - 1, -2**63]


@pytest.fixture
def torch_mod():
    return pytest.importorskip("torch")


def test_torch_tensors_one_element(wandb, torch_mod):
    torch = torch_mod
    w = torch.tensor([0.1], requires_grad=True)
    loss = (w * 3).sum()                       # a 0-d tensor with grad_fn
    vals = {
        "loss": loss, "param": w, "f64": torch.tensor(1 / 3, dtype=torch.float64),
        "f16": torch.tensor(0.333, dtype=torch.float16), "bf16": torch.tensor(0.333, dtype=torch.bfloat16),
        "i64": torch.tensor([[2**62]]), "u8": torch.tensor(200, dtype=torch.uint8),
        "b": torch.tensor(True), "nan": torch.tensor(float("nan")),
    }
    run = logged(wandb, vals)
    assert f64_bits(run.history("loss").values[0]) == f64_bits(float(np.float32(loss.item())))
    assert f64_bits(run.history("param").values[0]) == f64_bits(float(np.float32(0.1)))
    assert f64_bits(run.history("f64").values[0]) == f64_bits(1 / 3)
    assert run.history("f16").values[0] == float(np.float16(0.333))
    assert run.history("bf16").values[0] == vals["bf16"].item()
    assert run.history("i64").values.tolist() == [2**62]
    assert run.history("u8").values.tolist() == [200]
    assert run.history("b").values.tolist() == [True]
    assert math.isnan(run.history("nan").values[0])
    assert loss.grad_fn is not None  # logging did not detach the caller's tensor


def test_torch_larger_tensors_and_chw_images(wandb, torch_mod):
    torch = torch_mod
    g = torch.Generator().manual_seed(3)
    chw = torch.rand(3, 8, 6, generator=g)                     # float 0..1, channels first
    grey = (torch.rand(1, 5, 7, generator=g) * 255).to(torch.uint8)
    r = wandb.init()
    wandb.log({"rgb": wandb.Image(chw, caption="chw"), "grey": wandb.Image(grey),
               "small": torch.arange(4), "big": torch.randn(1000, generator=g, requires_grad=True)})
    t = wandb.Table(columns=["img", "pred", "score"])
    t.add_data(wandb.Image(chw), torch.tensor(3), torch.tensor(0.25, requires_grad=True))
    wandb.log({"table": t})
    path = r.path
    wandb.finish()
    run = runlog.open(path)
    (_, rgb, cap), = run.images("rgb")
    want = np.clip(np.rint(chw.permute(1, 2, 0).numpy().astype(np.float64) * 255), 0, 255)
    assert cap == "chw" and rgb.shape == (8, 6, 3) and np.array_equal(rgb, want.astype(np.uint8))
    (_, gr, _), = run.images("grey")
    assert gr.shape[:2] == (5, 7) and np.array_equal(gr.reshape(5, 7), grey[0].numpy())
    assert run.history("small").values.tolist() == [[0, 1, 2, 3]]
    assert run.history("big").values[0]["_type"] == "histogram"
    tab = run.table("table")
    assert tab.types == ["image", "int", "float"]
    assert np.array_equal(tab.data[0][0], want.astype(np.uint8))
    assert tab.data[0][1:] == [3, 0.25]
