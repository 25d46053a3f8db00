"""`vidstyle export NAME --format onnx|torchscript OUT`: a model for other runtimes."""
from __future__ import annotations

import argparse
from pathlib import Path

from vidstyle.cli.runtime_flags import add_style_flag


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export", help="export a style model to ONNX or TorchScript",
        description="Export a style model. The default graph takes (B, 3, H, W) float32 RGB in [0, 1] with dynamic "
        "batch/height/width and returns the same layout; --uint8 bakes the scaling in: (B, H, W, 3) uint8 RGB in and out.",
    )
    p.add_argument("name", help="model name or .safetensors path")
    p.add_argument("output", type=Path, metavar="OUT", help="output file (.onnx or .pt)")
    p.add_argument("--format", choices=["onnx", "torchscript"], default=None,
                   help="default: from OUT's extension (.onnx -> onnx, else torchscript)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--uint8", action="store_true", help="uint8 NHWC input and output")
    add_style_flag(p, help="a multi-style model: the style or blend baked into the exported graph, NAME or "
                   "NAME=0.6,OTHER=0.4 (default: its first style)")
    p.add_argument("--overwrite", "-y", action="store_true", help="replace an existing OUT (never the model itself)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidstyle.models import load_model
    from vidstyle.models.files import metadata_path
    from vidstyle.models.styles import format_style_mix, mix_vector, model_style_mix, network_styles
    from vidstyle.runtime.export import export_onnx, export_torchscript

    fmt = args.format or ("onnx" if args.output.suffix.lower() == ".onnx" else "torchscript")
    model = load_model(args.name)
    inputs = (model.path, metadata_path(model.path))
    styles = network_styles(model.network)
    baked = ""
    if args.style is not None or styles:
        import torch

        mix = model_style_mix(args.style if args.style is not None else styles[0], styles, model.name)
        model.network.set_mix(torch.from_numpy(mix_vector(styles, mix)))
        baked = f", style {format_style_mix(mix)}"
    if fmt == "onnx":
        out = export_onnx(model.network, args.output, opset=args.opset, uint8_io=args.uint8,
                          overwrite=args.overwrite, inputs=inputs)
    else:
        out = export_torchscript(model.network, args.output, uint8_io=args.uint8, overwrite=args.overwrite,
                                 inputs=inputs)
    print(f"wrote {out} ({fmt}, model {model.name}{baked})")
    return 0
