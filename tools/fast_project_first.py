"""Carry a `fast` model over to the project-first decoder (``project_first=True``), as a starting point
for fine-tuning with ``vidstyle train --init``.

Every weight keeps its place except the first upsampling stage: the old stage's 1×1 projection (48 → 16
after the wide depthwise filter) becomes the new up-front projection, and the new 16-channel separable
convolution starts as the identity. The result differs from the old model only by the dropped 48-channel
depthwise filter, which a short fine-tune relearns in the narrower form.

    .venv/bin/python tools/fast_project_first.py models/starry_night-fast.safetensors runs/s3/sn-pf-init.safetensors
"""
from __future__ import annotations

import argparse

import torch

from vidstyle.models import build_network, load_model, save_model, stored_arch_params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("out")
    args = parser.parse_args()

    old = load_model(args.source)
    meta = dict(old.metadata)
    params = stored_arch_params("fast", meta["arch_params"])
    if meta["architecture"] != "fast" or params.get("project_first"):
        raise SystemExit(f"{args.source}: not a fast model with the old decoder")
    params["project_first"] = True
    new = build_network("fast", **params)
    state = old.network.state_dict()
    target = new.state_dict()
    with torch.no_grad():
        for name, tensor in target.items():
            if not name.startswith("decoder.0."):
                tensor.copy_(state[name])
        target["decoder.0.project.weight"].copy_(state["decoder.0.conv.2.weight"])
        target["decoder.0.project.bias"].copy_(state["decoder.0.conv.2.bias"])
        dw = target["decoder.0.conv.1.weight"]
        dw.zero_()
        dw[:, 0, 1, 1] = 1.0
        pw = target["decoder.0.conv.2.weight"]
        pw.copy_(torch.eye(pw.shape[0])[:, :, None, None])
        target["decoder.0.conv.2.bias"].zero_()
    new.load_state_dict(target)
    meta["arch_params"] = params
    meta["converted_from"] = old.name
    save_model(args.out, new, meta)
    print(f"{args.out}: {old.name} with project_first=True")


if __name__ == "__main__":
    main()
