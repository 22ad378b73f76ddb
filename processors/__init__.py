"""Back-ends that pool a layer stack [B, L, T', D] into one vector [B, E]; registered in common.PROCESSORS."""
