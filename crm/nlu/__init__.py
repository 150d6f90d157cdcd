"""Trainer and CI tools for the NLU: evaluation on held-out messages, the trainers' report and
regression gate, and the consistency checks of training data, domain and actions."""
