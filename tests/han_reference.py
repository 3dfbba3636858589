"""The HAN forward pass computed the straightforward way, from raw features (as the official code orders it).

Every ResNet frame is projected and then each 8 are averaged; the CLAP map is resized, projected, averaged over its two
frequency rows and pooled to 10 segments. valor_nb averages before projecting (exact algebra, far cheaper); tests and
bench/train.py compare the two.
"""
import torch
import torch.nn.functional as F

from valor_nb.han import HANOutput


def project(x, kind, linear):
    "Project features of `kind` frame by frame (token by token), then reduce them to 10 segments."
    B = x.shape[0]
    if kind == 'res152': return linear(x).reshape(B, 10, 8, -1).mean(2)
    if kind == 'clap':
        grid = F.interpolate(x.reshape(B, 2, 32, -1).permute(0, 3, 1, 2), size=(2, 1024), mode='bicubic', align_corners=False)
        tokens = linear(grid.permute(0, 2, 3, 1)).mean(1)                      # (B, 1024, H): rows averaged
        return F.adaptive_avg_pool1d(tokens.transpose(1, 2), 10).transpose(1, 2)
    return linear(x)


def reference_forward(model, audio, visual2d, visual3d) -> HANOutput:
    "model's output on raw features, projecting before averaging."
    c, p = model.cfg, model.proj
    a = project(audio, c.audio, p.audio)
    v = p.fusion(torch.cat([project(visual2d, c.visual2d, p.visual2d), project(visual3d, c.visual3d, p.visual3d)], -1))
    return model.heads(*model.encoder(a, v))
