"""Training-time waveform augmentation: wave [T] float32 at conventions.SAMPLE_RATE -> wave [T'] float32.

Every augmentation is a small class whose constructor arguments are its settings (declared with
conventions.HyperParameter like the other components' and exposed the same way) and whose `__call__(wave, rng)` draws every
random number from `rng` (a numpy Generator), so that an item's augmentation is a deterministic
function of whatever the caller encodes in `rng` (run seed, epoch, item index). Inputs are mono
float32 [T], roughly in [-1, 1]; outputs are float32 and finite, of length T except for `speed`.
"""
