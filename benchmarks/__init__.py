"""planflow's benchmarks (``make bench``): the product's own code paths at national scale, each
beside a floor measured in the same run. Not part of the installed package; not a test."""
