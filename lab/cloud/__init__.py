"""The simulated OpenStack control plane: Keystone, Nova and Neutron APIs computed from a world spec."""
