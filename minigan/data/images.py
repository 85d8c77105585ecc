"""A folder of images (CelebA's layout: one flat folder of JPEG/PNG files) as an array."""
import os

import numpy as np

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


def load_image_folder(folder, size=64, limit=None):
    """Every image in ``folder``, centre-cropped to a square, resized to size x size, as
    float32 (N, 3, size, size) in [-1, 1], in sorted file-name order."""
    from PIL import Image  # Pillow comes with matplotlib

    if not os.path.isdir(folder):
        raise FileNotFoundError(f"no image folder at {folder!r}")
    names = sorted(f for f in os.listdir(folder) if f.lower().endswith(EXTENSIONS))
    if limit is not None:
        names = names[:limit]
    if not names:
        raise FileNotFoundError(f"no {'/'.join(EXTENSIONS)} images in {folder!r}")
    out = np.empty((len(names), 3, size, size), dtype=np.float32)
    for i, name in enumerate(names):
        try:
            with Image.open(os.path.join(folder, name)) as im:
                im = im.convert("RGB")
                w, h = im.size
                s = min(w, h)
                box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
                im = im.crop(box).resize((size, size), Image.BILINEAR)
                out[i] = np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 127.5 - 1.0
        except OSError as exc:
            raise OSError(f"cannot read image {name!r} in {folder!r}: {exc}") from None
    return out
