"""Environments to run against: the simulated cloud and the real lab, from one world spec."""
