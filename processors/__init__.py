"""Back-ends that pool a layer stack [B, L, T', D] into one vector [B, E]; registered in common.PROCESSORS."""
import common  # noqa: F401  (defines the constants that processor modules import)
