"""Writes the .npz fixtures of ZipArchiveTests with NumPy itself (np.savez: stored zip64
entries; np.savez_compressed: deflated entries). Values are formulas the Swift test recomputes:
  W_enc[i, j] = (i * 7 + j) / 16 - 3      float32, shape (5, 12)
  b_enc[j]    = j / 4 - 1                 float64, shape (12,)
  threshold[j]= j / 8                     float16, shape (12,)
  big[k]      = sin(k) (float32)          float32, shape (20000,)  (compressible: no; size: 80 kB
                                          stored only in the compressed file, to exercise long streams)
Run: python3 make_npz.py (numpy only)."""
import numpy as np

i, j = np.meshgrid(np.arange(5), np.arange(12), indexing="ij")
arrays = dict(
    W_enc=((i * 7 + j) / 16 - 3).astype(np.float32),
    b_enc=(np.arange(12) / 4 - 1).astype(np.float64),
    threshold=(np.arange(12) / 8).astype(np.float16),
)
np.savez("stored.npz", **arrays)
np.savez_compressed("compressed.npz", big=np.sin(np.arange(20000, dtype=np.float64)).astype(np.float32), **arrays)
