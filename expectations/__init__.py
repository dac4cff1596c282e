"""Great Expectations suites for raw inputs and marts, and the checkpoint that runs them."""
