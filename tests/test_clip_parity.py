"""CLIP teacher parity with the official pipeline, offline with shared random weights: a transformers `CLIPModel`
(QuickGELU, as "openai/clip-vit-large-patch14"'s configuration) fed by the official preprocessing (PIL RGB, ToTensor,
Resize((224, 224)) without antialiasing, Normalize), against our open_clip teacher holding the same weights. The logit
scale is set to the OpenAI weights' 100, and the tests prove they can fail: GELU instead of QuickGELU, or an antialiased
bicubic resize, moves the logits more than five times the tolerance."""
import json
import math
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms
from transformers import CLIPConfig, CLIPModel

from valor_nb.prompts import LLP_PROMPTS
from valor_nb.teachers import ClipTeacher, create_clip
from valor_nb.testing import make_clip
from valor_nb.video import load_clip

SIZES = {'tiny': dict(text=(64, 256, 2, 2), vision=(64, 256, 2, 2, 32), embed=32),
         'ViT-L-14': dict(text=(768, 3072, 12, 12), vision=(1024, 4096, 24, 16, 14), embed=768)}


def official_model(size):
    "A random transformers CLIPModel of `size`, QuickGELU, and the open_clip config of the same architecture."
    (tw, tff, tl, th), (vw, vff, vl, vh, patch), embed = SIZES[size]['text'], SIZES[size]['vision'], SIZES[size]['embed']
    config = CLIPConfig(text_config=dict(hidden_size=tw, intermediate_size=tff, num_hidden_layers=tl, num_attention_heads=th,
                                         max_position_embeddings=77, vocab_size=49408, hidden_act='quick_gelu'),
                        vision_config=dict(hidden_size=vw, intermediate_size=vff, num_hidden_layers=vl, num_attention_heads=vh,
                                           image_size=224, patch_size=patch, hidden_act='quick_gelu'), projection_dim=embed)
    torch.manual_seed(0)
    model = CLIPModel(config).eval()
    model.logit_scale.data.fill_(math.log(100))                      # the OpenAI weights' scale: logits = 100 x cosine
    name = f'parity-{size}'
    d = Path(tempfile.mkdtemp())
    (d/f'{name}.json').write_text(json.dumps({'embed_dim': embed,
        'vision_cfg': {'image_size': 224, 'layers': vl, 'width': vw, 'head_width': vw // vh, 'mlp_ratio': vff / vw, 'patch_size': patch},
        'text_cfg': {'context_length': 77, 'vocab_size': 49408, 'width': tw, 'heads': th, 'layers': tl}}))
    open_clip.add_model_config(d)
    torch.save(model.state_dict(), d/'pytorch_model.bin')
    return model, name, d/'pytorch_model.bin'


def frames():
    "The 10 segment frames of the real LLP clip when present, else of a generated clip."
    real = Path(os.environ.get('VALOR_LLP_DIR', '/nonexistent'))/'video'/'BjCEufrlXm4.mp4'
    video = real if real.is_file() else make_clip(Path(tempfile.mkdtemp())/'clip.mp4', size=96)
    return load_clip(video).segment_frames


OFFICIAL_PREPROCESS = transforms.Compose([transforms.ToTensor(), transforms.Resize((224, 224), antialias=False),
                                          transforms.Normalize(open_clip.OPENAI_DATASET_MEAN, open_clip.OPENAI_DATASET_STD)])


def official_outputs(model, name, images):
    pixels = torch.stack([OFFICIAL_PREPROCESS(Image.fromarray(f)) for f in images])
    ids = open_clip.get_tokenizer(name)(list(LLP_PROMPTS.clip_captions))
    with torch.no_grad(): out = model(input_ids=ids, pixel_values=pixels)
    return out.image_embeds.numpy(), out.logits_per_image.numpy()


def compare(size, tolerance):
    model, name, weights = official_model(size)
    images = frames()
    emb, logits = official_outputs(model, name, images)
    del model
    ours = ClipTeacher(model=name, weights=weights)
    our_emb, our_logits = ours(images)
    d_logit, d_emb = np.abs(our_logits - logits).max(), np.abs(our_emb - emb).max()
    print(f"{size}: max |Δ logit| {d_logit:.2e}, max |Δ embedding| {d_emb:.2e}", end='; ')
    assert d_logit < tolerance and d_emb < tolerance / 10
    # the test can see a wrong activation and a wrong resize
    gelu = ClipTeacher(model=name, weights=weights, quick_gelu=False)
    d_gelu = np.abs(gelu(images)[1] - logits).max()
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    x = (F.interpolate(x, size=(224, 224), mode='bicubic', antialias=True) - ours.mean) / ours.std
    with torch.no_grad(): antialiased = F.normalize(ours.model.encode_image(x), dim=-1) @ ours.text.T * ours.scale
    d_resize = np.abs(antialiased.numpy() - logits).max()
    print(f"with GELU: {d_gelu:.2e}, with an antialiased bicubic resize: {d_resize:.2e}")
    assert d_gelu > 5 * tolerance and d_resize > 5 * tolerance


def test_tiny_clip_equals_the_official_pipeline():
    compare('tiny', 1e-4)


@pytest.mark.slow
def test_vit_l14_equals_the_official_pipeline():
    compare('ViT-L-14', 1e-3)


def test_openai_weights_get_quick_gelu(tmp_path, monkeypatch):
    "The architecture built for the 'openai' tag (download replaced by a local file) and for local files uses QuickGELU."
    torch.save(open_clip.create_model('ViT-B-32', force_quick_gelu=True).state_dict(), tmp_path/'openai-b32.pt')
    monkeypatch.setattr(open_clip.factory, 'download_pretrained', lambda *a, **k: str(tmp_path/'openai-b32.pt'))
    with warnings.catch_warnings():
        warnings.simplefilter('error')                              # open_clip warns on a QuickGELU mismatch: none here
        for weights in ('openai', tmp_path/'openai-b32.pt'):
            acts = {type(m).__name__ for m in create_clip('ViT-B-32', weights).modules() if 'GELU' in type(m).__name__}
            assert acts == {'QuickGELU'}, (weights, acts)
    plain = {type(m).__name__ for m in open_clip.create_model('ViT-B-32').modules() if 'GELU' in type(m).__name__}
    assert plain == {'GELU'}                                         # what open_clip builds by default, and the bug it was
