"""`mlopsctl new`: a model repository that works on its first apply."""
