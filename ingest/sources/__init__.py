"""One package per source; every source package has the same shape: fetch (I/O), transform (pure)."""
