"""`make bench`: each module `bench/<section>.py` measures figures against a baseline in the same run."""
